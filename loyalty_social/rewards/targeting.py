"""Withdrawal of consent to targeted rewards reaches what is not delivered yet: the member's
targeted awards whose credit has not reached the backend are cancelled there and reversed
here (ledger and balance follow), and their offer grants not yet delivered are cancelled
(stock and code given back). Runs in the withdrawal's transaction (``consent.on_withdrawal``)
and again as the job ``rewards.cancel_undelivered`` when a delivery job cancels a row at
claim time (it was in flight at the withdrawal, then came back for a retry). Idempotent:
only awards still granted with a cancelled credit are reversed, each once.
"""

from __future__ import annotations

from sqlalchemy import update

from ..delivery.adapters import CREDIT, OFFER_GRANT
from ..delivery.cancellation import cancel_unsent
from ..extensions import db
from .models import Award, Offer, OfferCode, OfferGrant
from .service import reverse

WITHDRAWN = "consent to targeted rewards withdrawn before it was delivered"


def cancel_undelivered(member_ids: list[str]) -> dict[str, list[str]]:
    """Returns the awards reversed and the offer grants cancelled."""
    awards = list(
        db.session.scalars(
            db.select(Award.id).where(
                Award.member_id.in_(sorted(set(member_ids))),
                Award.status == "granted",
                Award.consent_ref.is_not(None),
            )
        )
    )
    if not awards:
        return {"reversed": [], "offer_grants": []}
    cancelled = cancel_unsent(CREDIT, awards)
    reversed_ids = reverse(sorted(cancelled), None, WITHDRAWN, actor="consent") if cancelled else []
    grants = list(
        db.session.scalars(
            db.select(OfferGrant)
            .where(OfferGrant.award_id.in_(awards), OfferGrant.status == "granted")
            .with_for_update()
        )
    )
    stopped = cancel_unsent(OFFER_GRANT, [g.id for g in grants])
    for grant in grants:
        if grant.id in stopped:
            _give_back(grant)
    db.session.flush()
    return {"reversed": reversed_ids, "offer_grants": sorted(stopped)}


def _give_back(grant: OfferGrant) -> None:
    """The grant never reached the member: its stock and its code go back to the offer."""
    grant.status = "cancelled"
    c = Offer.__table__.c
    db.session.execute(
        update(Offer.__table__)
        .where(c.id == grant.offer_id, c.granted_count > 0)
        .values(granted_count=c.granted_count - 1)
    )
    if grant.code:
        db.session.execute(
            update(OfferCode).where(OfferCode.grant_id == grant.id).values(grant_id=None)
        )


def on_withdrawal(member_ids: list[str]) -> None:
    cancel_undelivered(member_ids)
