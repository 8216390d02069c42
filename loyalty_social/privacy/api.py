"""Access and erasure over the API: a member's export (backend), erasure and its log (admin)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ..access.auth import SECURITY, require_scope
from ..extensions import db
from . import service
from .schemas import (
    ErasurePageSchema,
    ErasureQuerySchema,
    ErasureResultSchema,
    ExportSchema,
)

erasures_api = Blueprint(
    "privacy",
    __name__,
    url_prefix="/api/v1",
    description="Access and erasure (GDPR Art. 15 and 17): everything held about a member as "
    "JSON; erasure with a tombstone, and the erasure log",
)


@erasures_api.route("/members/<member_id>/export")
class MemberExport(MethodView):
    @require_scope("backend")
    @erasures_api.doc(security=SECURITY)
    @erasures_api.response(200, ExportSchema)
    def get(self, member_id):
        """Everything held about the member (never tokens or secrets)."""
        document = service.export(member_id)
        db.session.commit()
        return document


@erasures_api.route("/members/<member_id>/erasure")
class MemberErasure(MethodView):
    @require_scope("admin")
    @erasures_api.doc(security=SECURITY)
    @erasures_api.response(200, ErasureResultSchema)
    def post(self, member_id):
        """Erase the member: personal and social data removed or anonymised, tokens revoked
        and deleted, ledger totals kept without the member, a tombstone left. Idempotent."""
        record, removed = service.erase(member_id)  # the actor: the request's API key
        db.session.commit()
        return {**service.erasure_dict(record), "removed_now": removed}


@erasures_api.route("/erasures")
class Erasures(MethodView):
    @require_scope("admin")
    @erasures_api.doc(security=SECURITY)
    @erasures_api.arguments(ErasureQuerySchema, location="query")
    @erasures_api.response(200, ErasurePageSchema)
    def get(self, query):
        """The erasure log, newest first (who, when, how many records of each kind)."""
        items = service.log_entries(after=query.get("after"), limit=query["limit"])
        next_after = items[-1].id if len(items) == query["limit"] else None
        return {"items": [service.erasure_dict(r) for r in items], "next_after": next_after}
