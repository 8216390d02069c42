"""Reward rules: definitions, conditions, limits, evaluation, previews and backtests."""


def init_app(app) -> None:
    from ..consent.service import on_withdrawal
    from ..extensions import api
    from ..privacy import register
    from . import personal_data
    from .api import backtests_api, campaigns_api, previews_api, rules_api
    from .held import TARGETED, reject_unconsented

    on_withdrawal(app, TARGETED, reject_unconsented)
    register(
        app,
        "limit_counters",
        export=personal_data.export_counters,
        erase=personal_data.erase_counters,
        order=30,
    )

    api.register_blueprint(rules_api)
    api.register_blueprint(campaigns_api)
    api.register_blueprint(backtests_api)
    api.register_blueprint(previews_api)
