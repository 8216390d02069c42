"""The operator's event API (the webhook receiver itself is ``endpoint.py``)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint as ApiBlueprint

from ..access.auth import SECURITY, require_scope
from ..errors import Problem
from . import service
from .schemas import EventPageSchema, EventQuerySchema, EventSchema

events_api = ApiBlueprint(
    "events", __name__, url_prefix="/api/v1/events", description="Inbound activity events"
)


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
