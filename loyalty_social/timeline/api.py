"""GET /api/v1/members/<id>/timeline (backend scope): the member's social history."""

from flask.views import MethodView
from flask_smorest import Blueprint

from ..access.auth import SECURITY, require_scope
from . import service
from .schemas import TimelinePageSchema, TimelineQuerySchema

timeline_api = Blueprint(
    "timeline",
    __name__,
    url_prefix="/api/v1/members",
    description="A member's timeline: accounts, activities, awards, offers, consent, clicks",
)


@timeline_api.route("/<member_id>/timeline")
class MemberTimeline(MethodView):
    @require_scope("backend")
    @timeline_api.doc(security=SECURITY)
    @timeline_api.arguments(TimelineQuerySchema, location="query")
    @timeline_api.response(200, TimelinePageSchema)
    def get(self, query, member_id):
        """The member's linked accounts, activities, awards, offers, consent changes, level
        changes and clicks on their links, newest first; follow ``next_cursor`` for older."""
        return service.member_timeline(member_id, query.get("cursor"), query["limit"])
