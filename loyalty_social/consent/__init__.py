"""Consent: purposes, one current decision per member and purpose, append-only history."""


def init_app(app) -> None:
    from ..analytics import sources
    from ..extensions import api
    from . import figures
    from .api import consents_api

    api.register_blueprint(consents_api)
    sources.register(app, figures.SOURCE)
