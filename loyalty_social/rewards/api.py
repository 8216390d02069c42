"""Members' points, for the loyalty backend and read-only consumers."""

from flask.views import MethodView
from flask_smorest import Blueprint

from ..access.auth import SECURITY, require_scope
from . import service
from .schemas import BalanceSchema, LedgerPageSchema, LedgerQuerySchema

members_api = Blueprint(
    "members", __name__, url_prefix="/api/v1/members", description="Members' points"
)


@members_api.route("/<member_id>/balance")
class MemberBalance(MethodView):
    @require_scope("read")
    @members_api.doc(security=SECURITY)
    @members_api.response(200, BalanceSchema)
    def get(self, member_id):
        """The member's points balance (0 for a member we have not seen)."""
        return {"member_id": member_id, "points": service.balance(member_id)}


@members_api.route("/<member_id>/ledger")
class MemberLedger(MethodView):
    @require_scope("read")
    @members_api.doc(security=SECURITY)
    @members_api.arguments(LedgerQuerySchema, location="query")
    @members_api.response(200, LedgerPageSchema)
    def get(self, query, member_id):
        """Every points movement of the member, newest first."""
        items, next_after = service.ledger(member_id, **query)
        return {"member_id": member_id, "items": items, "next_after": next_after}
