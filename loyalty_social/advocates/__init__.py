"""Advocates: tracked share links (``/s/<code>``), clicks, verified shares, referral
attribution and referral fraud checks."""


def init_app(app) -> None:
    from ..analytics import sources
    from ..consent.service import on_withdrawal
    from ..extensions import api
    from ..privacy import register
    from . import figures, personal_data, redirect
    from .allowlist import prefixes_of
    from .api import advocates_api
    from .config import check_config
    from .scoring import PURPOSE, forget

    check_config(app.config)
    prefixes_of(app)  # a malformed SHARE_LINK_TARGETS stops the start, naming the entry
    on_withdrawal(app, PURPOSE, forget)  # members without the consent are not scored
    register(
        app,
        "advocacy",
        export=personal_data.export_advocacy,
        erase=personal_data.erase_advocacy,
        order=30,
        members=personal_data.member_ids,
    )
    redirect.init_app(app)
    sources.register(app, figures.SOURCE)  # the share -> click -> sign-up funnel
    api.register_blueprint(advocates_api)
