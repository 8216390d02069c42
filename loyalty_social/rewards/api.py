"""Members' points and offers (backend, read-only consumers) and the marketer's ledger views:
awards, the approval queue, admin reversals, offers."""

from flask.views import MethodView
from flask_smorest import Blueprint

from ..access.auth import SECURITY, require_scope
from ..extensions import db
from ..rules.api import actor
from ..rules.explanations import member_explanation
from ..rules.held import approve_held, reject_held
from ..rules.schemas import ExplanationSchema
from . import awards, offers, service
from .schemas import (
    AwardPageSchema,
    AwardQuerySchema,
    AwardSchema,
    BalanceSchema,
    CodesImportedSchema,
    CodesSchema,
    LedgerPageSchema,
    LedgerQuerySchema,
    MemberOfferListSchema,
    MemberOfferSchema,
    OfferCreateSchema,
    OfferListSchema,
    OfferSchema,
    OfferStatusSchema,
    ReasonSchema,
)

OFFER_EXAMPLE = {
    "name": "Early access: winter boots",
    "product": "SKU-BOOT-24",
    "description": "Members who reviewed last season's boots shop the new ones a week early",
    "starts_at": "2026-12-01T00:00:00Z",
    "ends_at": "2026-12-08T00:00:00Z",
    "inventory": 500,
    "uses_codes": True,
    "grant_ttl_seconds": 604800,
}

members_api = Blueprint(
    "members", __name__, url_prefix="/api/v1/members", description="Members' points"
)
awards_api = Blueprint(
    "awards", __name__, url_prefix="/api/v1/awards", description="Awards and the approval queue"
)
offers_api = Blueprint(
    "offers", __name__, url_prefix="/api/v1/offers", description="Early-access offers"
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


@members_api.route("/<member_id>/events/<event_id>/explanation")
class MemberEventExplanation(MethodView):
    @require_scope("read")
    @members_api.doc(security=SECURITY)
    @members_api.response(200, ExplanationSchema)
    def get(self, member_id, event_id):
        """ "Why did I (not) get points?": each listening rule's verdict in plain words."""
        return member_explanation(member_id, event_id)


@members_api.route("/<member_id>/offers")
class MemberOffers(MethodView):
    @require_scope("read")
    @members_api.doc(security=SECURITY)
    @members_api.response(200, MemberOfferListSchema)
    def get(self, member_id):
        """The member's early-access offers, newest first."""
        return {"member_id": member_id, "items": offers.member_offers(member_id)}


@members_api.route("/<member_id>/offers/<grant_id>/redeem")
class MemberOfferRedeem(MethodView):
    @require_scope("backend")
    @members_api.doc(security=SECURITY)
    @members_api.response(200, MemberOfferSchema)
    def post(self, member_id, grant_id):
        """The loyalty backend marks an offer redeemed (once; not after it expired)."""
        return offers.redeem(member_id, grant_id)


@awards_api.route("")
class Awards(MethodView):
    @require_scope("marketer")
    @awards_api.doc(security=SECURITY)
    @awards_api.arguments(AwardQuerySchema, location="query")
    @awards_api.response(200, AwardPageSchema)
    def get(self, query):
        """Awards, newest first; status=held is the approval queue."""
        items, next_after = awards.list_awards(**query)
        return {"items": items, "next_after": next_after}


@awards_api.route("/<award_id>")
class AwardItem(MethodView):
    @require_scope("marketer")
    @awards_api.doc(security=SECURITY)
    @awards_api.response(200, AwardSchema)
    def get(self, award_id):
        return awards.get_award(award_id)


@awards_api.route("/<award_id>/approve")
class AwardApprove(MethodView):
    @require_scope("marketer")
    @awards_api.doc(security=SECURITY)
    @awards_api.response(200, AwardSchema)
    def post(self, award_id):
        """Pay a held award now."""
        return approve_held(award_id, actor())


@awards_api.route("/<award_id>/reject")
class AwardReject(MethodView):
    @require_scope("marketer")
    @awards_api.doc(security=SECURITY)
    @awards_api.arguments(ReasonSchema, example={"reason": "duplicate review, see ticket 4411"})
    @awards_api.response(200, AwardSchema)
    def post(self, body, award_id):
        """Refuse a held award; the limits and budget it held are given back."""
        return reject_held(award_id, actor(), body["reason"])


@awards_api.route("/<award_id>/reverse")
class AwardReverse(MethodView):
    @require_scope("admin")
    @awards_api.doc(security=SECURITY)
    @awards_api.arguments(ReasonSchema, example={"reason": "duplicate review, see ticket 4411"})
    @awards_api.response(200, AwardSchema)
    def post(self, body, award_id):
        """Claw back a granted award, with a reason (admin)."""
        award = awards.admin_reverse(award_id, body["reason"], actor())
        db.session.commit()
        return award


@offers_api.route("")
class Offers(MethodView):
    @require_scope("marketer")
    @offers_api.doc(security=SECURITY)
    @offers_api.response(200, OfferListSchema)
    def get(self):
        return {"items": offers.list_offers()}

    @require_scope("marketer")
    @offers_api.doc(security=SECURITY)
    @offers_api.arguments(OfferCreateSchema, example=OFFER_EXAMPLE)
    @offers_api.response(201, OfferSchema)
    def post(self, body):
        """An early-access offer; rules grant it with a reward {"kind": "offer"}."""
        return offers.create_offer(body, actor())


@offers_api.route("/<offer_id>")
class OfferItem(MethodView):
    @require_scope("marketer")
    @offers_api.doc(security=SECURITY)
    @offers_api.response(200, OfferSchema)
    def get(self, offer_id):
        return offers.get_offer(offer_id)


@offers_api.route("/<offer_id>/status")
class OfferStatus(MethodView):
    @require_scope("marketer")
    @offers_api.doc(security=SECURITY)
    @offers_api.arguments(OfferStatusSchema, example={"status": "active"})
    @offers_api.response(200, OfferSchema)
    def post(self, body, offer_id):
        """Archive (stop granting) or re-activate an offer."""
        return offers.set_offer_status(offer_id, body["status"])


@offers_api.route("/<offer_id>/codes")
class OfferCodes(MethodView):
    @require_scope("marketer")
    @offers_api.doc(security=SECURITY)
    @offers_api.arguments(CodesSchema, example={"codes": ["EARLY-7K2Q", "EARLY-9X4M"]})
    @offers_api.response(200, CodesImportedSchema)
    def post(self, body, offer_id):
        """Import codes into the offer's pool (duplicates ignored); one code per grant."""
        added = offers.import_codes(offer_id, body["codes"])
        return {"added": added, "free": offers.free_codes(offer_id)}
