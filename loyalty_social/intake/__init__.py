"""Webhooks in: signature, envelope, event catalogue, durable storage, dispatch."""


def init_app(app) -> None:
    from ..extensions import api
    from .api import events_api, webhooks

    app.register_blueprint(webhooks)
    api.register_blueprint(events_api)
