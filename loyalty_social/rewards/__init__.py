"""Points: awards, the append-only ledger, balances, offers."""


def init_app(app) -> None:
    from ..extensions import api
    from .api import awards_api, members_api, offers_api

    api.register_blueprint(members_api)
    api.register_blueprint(awards_api)
    api.register_blueprint(offers_api)
