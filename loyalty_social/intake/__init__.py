"""Webhooks in: signature, envelope, event catalogue, durable storage, dispatch."""


def init_app(app) -> None:
    from ..extensions import api
    from . import endpoint
    from .api import events_api

    endpoint.init_app(app)
    api.register_blueprint(events_api)
