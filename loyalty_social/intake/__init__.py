"""Webhooks in: signature, envelope, event catalogue, durable storage, dispatch."""


def init_app(app) -> None:
    from ..analytics import sources
    from ..extensions import api
    from ..metrics import register_gauge
    from ..privacy import register
    from . import endpoint, figures, personal_data, service
    from .api import events_api

    register(
        app,
        "events",
        export=personal_data.export_events,
        erase=personal_data.erase_events,
        order=60,
        members=personal_data.member_ids,
    )
    endpoint.init_app(app)
    api.register_blueprint(events_api)
    sources.register(app, figures.SOURCE)
    register_gauge(
        app,
        "loyalty_social_events",
        "Stored events waiting (pending) or given up on (failed), each count capped",
        service.backlog,
        labels=("status",),
    )
    register_gauge(
        app,
        "loyalty_social_oldest_pending_event_age_seconds",
        "Seconds since the oldest pending event arrived",
        service.oldest_pending_age,
    )
