"""Reward rules: definitions, conditions, limits, evaluation, previews and backtests."""


def init_app(app) -> None:
    from ..extensions import api
    from .api import backtests_api, campaigns_api, previews_api, rules_api

    api.register_blueprint(rules_api)
    api.register_blueprint(campaigns_api)
    api.register_blueprint(backtests_api)
    api.register_blueprint(previews_api)
