"""Not built yet: see the open issues."""


def init_app(app) -> None:
    """Nothing to register yet."""
