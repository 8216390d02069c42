"""API keys with scopes: who may call which endpoint."""


def init_app(app) -> None:
    """No blueprint: other features use access.auth.require_scope."""
