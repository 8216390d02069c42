from ..rules.conftest import any_app, pg_rapp, rapp  # noqa: F401  (the rules tests' apps)
