"""Points: awards, the append-only ledger, balances."""


def init_app(app) -> None:
    from ..extensions import api
    from .api import members_api

    api.register_blueprint(members_api)
