"""A batch's view of its offers: what each member can still get, decided before paying.

The batch reads its offers once (locked FOR UPDATE on PostgreSQL, in one sorted order: the
lock ``offers.grant_offer`` relies on), with their free codes and the batch's members who hold
them already, and takes from that copy in the order awards are decided. So an award's
decision, its explanation and its details say "sold out" exactly when the grant would refuse,
and never "paid" for an offer nobody got. Three queries per batch, none per event, and none
at all when no rule of the batch grants an offer.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func

from ..extensions import db
from ..timeutil import utcnow
from .models import Offer, OfferCode, OfferGrant


@dataclass
class _Stock:
    name: str
    active: bool
    open: bool
    left: int | None  # units left (None: unlimited)
    codes: int | None  # free codes left (None: the offer uses no codes)


def refusal(name: str, active: bool, open_: bool, holds: bool, left, codes) -> str | None:
    """Why the member cannot get this offer now (words for them and for the record)."""
    if not active:
        return f"the offer “{name}” is not available"
    if not open_:
        return f"the offer “{name}” is not open now"
    if holds:
        return f"you already have the offer “{name}”"
    if left is not None and left <= 0:
        return f"the offer “{name}” is sold out"
    if codes is not None and codes <= 0:
        return f"the offer “{name}” is sold out (no codes left)"
    return None


class OfferStock:
    def __init__(self, offer_ids, member_ids):
        self.stock: dict[str, _Stock] = {}
        self.holders: set[tuple[str, str]] = set()
        ids = sorted(set(offer_ids))
        if not ids:
            return
        now = utcnow()
        query = db.select(Offer).where(Offer.id.in_(ids)).order_by(Offer.id)
        if db.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        uses_codes = []
        for offer in db.session.scalars(query):
            self.stock[offer.id] = _Stock(
                offer.name,
                offer.status == "active",
                (offer.starts_at is None or now >= offer.starts_at)
                and (offer.ends_at is None or now < offer.ends_at),
                None if offer.inventory is None else offer.inventory - offer.granted_count,
                0 if offer.uses_codes else None,
            )
            if offer.uses_codes:
                uses_codes.append(offer.id)
        if uses_codes:
            free = db.session.execute(
                db.select(OfferCode.offer_id, func.count())
                .where(OfferCode.offer_id.in_(uses_codes), OfferCode.grant_id.is_(None))
                .group_by(OfferCode.offer_id)
            )
            for offer_id, count in free:
                self.stock[offer_id].codes = count
        held = db.session.execute(
            db.select(OfferGrant.offer_id, OfferGrant.member_id).where(
                OfferGrant.offer_id.in_(ids), OfferGrant.member_id.in_(sorted(set(member_ids)))
            )
        )
        self.holders = {(offer_id, member_id) for offer_id, member_id in held}

    def refusals(self, member_id: str, offer_ids) -> dict[str, str]:
        """Offer id -> why this member cannot get it now; offers not listed can be granted."""
        refused = {}
        for offer_id in offer_ids:
            stock = self.stock.get(offer_id)
            if stock is None:
                refused[offer_id] = "the offer is not available"
                continue
            why = refusal(
                stock.name,
                stock.active,
                stock.open,
                (offer_id, member_id) in self.holders,
                stock.left,
                stock.codes,
            )
            if why:
                refused[offer_id] = why
        return refused

    def take(self, member_id: str, offer_ids) -> None:
        """These offers go to this member (the grant itself follows when the award is paid)."""
        for offer_id in offer_ids:
            stock = self.stock[offer_id]
            if stock.left is not None:
                stock.left -= 1
            if stock.codes is not None:
                stock.codes -= 1
            self.holders.add((offer_id, member_id))
