"""Members and (later) their linked social accounts."""


def init_app(app) -> None:
    """No HTTP surface yet."""
