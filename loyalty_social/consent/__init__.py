"""Consent: purposes, one current decision per member and purpose, append-only history."""


def init_app(app) -> None:
    from ..analytics import sources
    from ..extensions import api
    from ..privacy import register
    from . import figures, personal_data
    from .api import consents_api

    register(
        app,
        "consents",
        export=personal_data.export_consents,
        erase=personal_data.erase_consents,
        members=personal_data.member_ids,
    )

    api.register_blueprint(consents_api)
    sources.register(app, figures.SOURCE)
