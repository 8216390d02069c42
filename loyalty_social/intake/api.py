"""HTTP edges of intake: the signed webhook endpoint and the operator's event API."""

from __future__ import annotations

import math
from concurrent.futures import TimeoutError as FutureTimeout

from flask import Blueprint, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint as ApiBlueprint

from ..access.auth import SECURITY, require_scope
from ..errors import Problem
from ..metrics import EVENTS_RECEIVED
from . import service
from .committer import pipeline
from .schemas import EventPageSchema, EventQuerySchema, EventSchema
from .signature import SignatureError, verify
from .sources import RateLimiter, SourceCache

webhooks = Blueprint("webhooks", __name__)
events_api = ApiBlueprint(
    "events", __name__, url_prefix="/api/v1/events", description="Inbound activity events"
)


def _intake_state():
    state = current_app.extensions.get("loyalty_social.intake_state")
    if state is None:
        state = (SourceCache(current_app.config["SOURCE_CACHE_SECONDS"]), RateLimiter())
        current_app.extensions["loyalty_social.intake_state"] = state
    return state


@webhooks.post("/webhooks/<source_name>")
def receive_webhook(source_name: str):
    """Verify, validate, store durably, answer. Processing happens elsewhere."""
    sources, limiter = _intake_state()
    source = sources.get(source_name)
    if source is None or not source.enabled:
        raise Problem("unknown-source", f"No enabled webhook source {source_name!r}.")
    if request.mimetype != "application/json":
        raise Problem("unsupported-media-type", "Send the event as application/json.")
    body = request.get_data(cache=False)
    try:
        webhook_id = verify(
            source.secrets, request.headers, body, current_app.config["WEBHOOK_TOLERANCE_SECONDS"]
        )
    except SignatureError as error:
        EVENTS_RECEIVED.labels("invalid_signature").inc()
        raise Problem("invalid-signature", str(error)) from None
    wait = limiter.take(source.name, source.rate_limit, source.rate_burst)
    if wait:
        EVENTS_RECEIVED.labels("rate_limited").inc()
        raise Problem(
            "rate-limited",
            f"Source {source.name!r} is over its rate limit.",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
    try:
        row = service.build_event_row(source, webhook_id, body)
    except Problem:
        EVENTS_RECEIVED.labels("invalid").inc()
        raise
    try:
        result = pipeline(current_app._get_current_object()).committer.submit(row)
    except FutureTimeout:
        raise Problem(
            "service-unavailable", "Storing the event timed out.", headers={"Retry-After": "5"}
        ) from None
    if result.conflict:
        EVENTS_RECEIVED.labels("conflict").inc()
        raise Problem(
            "webhook-id-reused",
            f"webhook-id {webhook_id!r} was already delivered with a different body.",
            event_id=result.id,
        )
    EVENTS_RECEIVED.labels("duplicate" if result.duplicate else "accepted").inc()
    payload = {
        "id": result.id,
        "status": result.status,
        "duplicate": result.duplicate,
        "outcome": result.outcome,
    }
    return payload, (200 if result.duplicate else 202)


@events_api.route("")
class Events(MethodView):
    @require_scope("operator")
    @events_api.doc(security=SECURITY)
    @events_api.arguments(EventQuerySchema, location="query")
    @events_api.response(200, EventPageSchema)
    def get(self, query):
        """List events, newest first, filtered by status, source, type or member."""
        items, next_after = service.list_events(**query)
        return {"items": items, "next_after": next_after}


@events_api.route("/<event_id>")
class Event(MethodView):
    @require_scope("operator")
    @events_api.doc(security=SECURITY)
    @events_api.response(200, EventSchema)
    def get(self, event_id):
        """One event with its processing outcome or error."""
        event = service.get_event(event_id)
        if event is None:
            raise Problem("not-found", f"No event {event_id!r}.")
        return event


@events_api.route("/<event_id>/replay")
class EventReplay(MethodView):
    @require_scope("operator")
    @events_api.doc(security=SECURITY)
    @events_api.response(202, EventSchema)
    def post(self, event_id):
        """Process an event again (nothing is paid twice)."""
        return service.replay_event(event_id)
