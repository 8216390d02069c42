"""The advocates tests use the rules tests' apps: real processing on SQLite and PostgreSQL."""

from ..rules.conftest import any_app, pg_rapp, rapp  # noqa: F401 (fixtures)
