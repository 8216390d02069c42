"""What rewards holds about a member: awards, the ledger, the balance, offer grants and codes.

Erasure keeps the money and loses the person: awards, ledger entries, the balance and offer
grants move to the erasure's anonymous member (a random id, linked to nothing), and lose what
could describe the member (the object an award was for, how its points were computed, free
text reasons, the consent reference). Ledger and balance totals are unchanged.
"""

from __future__ import annotations

from sqlalchemy import delete, update

from ..extensions import db
from ..identity.service import insert_members
from ..privacy import Erasure, as_dict
from .models import Award, Balance, LedgerEntry, OfferGrant

AWARD_COLUMNS = (
    "id",
    "rule_id",
    "rule_version",
    "event_id",
    "object_key",
    "points",
    "status",
    "created_at",
    "reversed_at",
    "consent_ref",
    "campaign_id",
    "details",
    "reason",
    "decided_by",
    "decided_at",
)
LEDGER_COLUMNS = (
    "id",
    "award_id",
    "event_id",
    "rule_id",
    "rule_version",
    "kind",
    "points",
    "reason",
    "created_at",
    "debt",
    "actor",
)
GRANT_COLUMNS = (
    "id",
    "offer_id",
    "award_id",
    "code",
    "status",
    "granted_at",
    "expires_at",
    "redeemed_at",
)


def export_rewards(member_id: str) -> dict:
    balance = db.session.get(Balance, member_id)
    return {
        "balance": as_dict(balance, ("points", "debt", "updated_at")) if balance else None,
        "awards": [
            as_dict(a, AWARD_COLUMNS)
            for a in db.session.scalars(
                db.select(Award).where(Award.member_id == member_id).order_by(Award.id)
            )
        ],
        "ledger": [
            as_dict(e, LEDGER_COLUMNS)
            for e in db.session.scalars(
                db.select(LedgerEntry)
                .where(LedgerEntry.member_id == member_id)
                .order_by(LedgerEntry.id)
            )
        ],
        "offer_grants": [
            as_dict(g, GRANT_COLUMNS)
            for g in db.session.scalars(
                db.select(OfferGrant)
                .where(OfferGrant.member_id == member_id)
                .order_by(OfferGrant.granted_at)
            )
        ],
    }


def erase_rewards(erasure: Erasure) -> dict:
    member_id, anonymous = erasure.member_id, erasure.anonymous_id
    counts = {}
    held = [
        db.session.scalar(db.select(model.id).where(model.member_id == member_id).limit(1))
        for model in (Award, LedgerEntry, OfferGrant)
    ]
    balance = db.session.get(Balance, member_id)
    if not any(held) and balance is None:
        return counts
    insert_members([anonymous])  # the records' new owner: a member row named by nobody
    if balance is not None:
        db.session.add(
            Balance(
                member_id=anonymous,
                points=balance.points,
                debt=balance.debt,
                updated_at=balance.updated_at,
            )
        )
        db.session.flush()
    counts["awards"] = db.session.execute(
        update(Award)
        .where(Award.member_id == member_id)
        .values(member_id=anonymous, object_key=None, details={}, reason=None, consent_ref=None)
    ).rowcount
    counts["ledger_entries"] = db.session.execute(
        update(LedgerEntry)
        .where(LedgerEntry.member_id == member_id)
        .values(member_id=anonymous, reason=None)
    ).rowcount
    counts["balance"] = db.session.execute(
        delete(Balance).where(Balance.member_id == member_id)
    ).rowcount
    counts["offer_grants"] = db.session.execute(
        update(OfferGrant).where(OfferGrant.member_id == member_id).values(member_id=anonymous)
    ).rowcount
    return counts
