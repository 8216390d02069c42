"""Points: awards, the append-only ledger, balances, offers."""


def init_app(app) -> None:
    from ..analytics import sources
    from ..consent.service import on_withdrawal
    from ..delivery.models import TARGETED
    from ..extensions import api
    from ..privacy import register
    from . import figures, personal_data, targeting
    from .api import awards_api, members_api, offers_api

    on_withdrawal(app, TARGETED, targeting.on_withdrawal)
    register(
        app,
        "rewards",
        export=personal_data.export_rewards,
        erase=personal_data.erase_rewards,
        order=40,
    )

    api.register_blueprint(members_api)
    api.register_blueprint(awards_api)
    api.register_blueprint(offers_api)
    sources.register(app, figures.SOURCE)
