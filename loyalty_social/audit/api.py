"""The audit log over the API: admins read who changed what."""

from flask.views import MethodView
from flask_smorest import Blueprint

from ..access.auth import SECURITY, require_scope
from . import service
from .schemas import AuditPageSchema, AuditQuerySchema

audit_api = Blueprint(
    "audit",
    __name__,
    url_prefix="/api/v1/audit",
    description="Every change made through the API, the CLI or the console: who, when, "
    "what, before and after",
)


@audit_api.route("")
class AuditLog(MethodView):
    @require_scope("admin")
    @audit_api.doc(security=SECURITY)
    @audit_api.arguments(AuditQuerySchema, location="query")
    @audit_api.response(200, AuditPageSchema)
    def get(self, query):
        """Newest first, filtered; page on with ``after=<next_after>``."""
        limit = query.pop("limit")
        after_id = query.pop("after", None)
        items = service.search(**query, after_id=after_id, limit=limit)
        next_after = items[-1].id if len(items) == limit else None
        return {"items": items, "next_after": next_after}
