"""Early-access offers: a window, an inventory, an optional code pool, expiry after grant.

Granting is atomic against inventory: ``UPDATE offer SET granted_count = granted_count + 1
WHERE granted_count < inventory`` either takes a unit or changes nothing, whatever the number
of workers; a member holds an offer at most once (unique offer + member); a code is handed to
one grant only. Every grant and redemption writes its outbox row (delivery) in the same
transaction.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from .. import audit
from ..analytics import rollups
from ..delivery import outbox
from ..errors import Problem
from ..extensions import db
from ..ids import new_id
from ..sql import insert_ignoring_duplicates, timeline_rows
from ..timeutil import isoformat, utcnow
from .models import Offer, OfferCode, OfferGrant


def create_offer(data: dict, actor: str | None = None) -> Offer:
    # A window that ends before it starts is accepted: the offer is simply never open.
    starts, ends = data.get("starts_at"), data.get("ends_at")
    offer = Offer(
        id=new_id("ofr"),
        name=data["name"],
        product=data["product"],
        description=data.get("description"),
        starts_at=starts,
        ends_at=ends,
        inventory=data.get("inventory"),
        granted_count=0,
        uses_codes=bool(data.get("uses_codes")),
        grant_ttl_seconds=data.get("grant_ttl_seconds"),
        status="active",
        created_at=utcnow(),
        created_by=actor,
    )
    db.session.add(offer)
    audit.record("offer.created", target=("offer", offer.id), after=data)
    db.session.commit()
    return offer


def get_offer(offer_id: str) -> Offer:
    offer = db.session.get(Offer, offer_id)
    if offer is None:
        raise Problem("not-found", f"No offer {offer_id!r}.")
    return offer


def offer_exists(offer_id: str) -> bool:
    return db.session.get(Offer, offer_id) is not None


def list_offers() -> list[Offer]:
    return list(db.session.scalars(db.select(Offer).order_by(Offer.created_at, Offer.id)))


def set_offer_status(offer_id: str, status: str) -> Offer:
    offer = get_offer(offer_id)
    before = offer.status
    offer.status = status
    audit.record(
        "offer.status_changed",
        target=("offer", offer_id),
        before={"status": before},
        after={"status": status},
    )
    db.session.commit()
    return offer


def free_codes(offer_id: str) -> int:
    return db.session.scalar(
        db.select(db.func.count())
        .select_from(OfferCode)
        .where(OfferCode.offer_id == offer_id, OfferCode.grant_id.is_(None))
    )


def import_codes(offer_id: str, codes: list[str]) -> int:
    """Add codes to the pool (duplicates ignored); returns how many were new."""
    offer = get_offer(offer_id)
    if not offer.uses_codes:
        raise Problem("conflict", "This offer does not use codes.")
    now = utcnow()
    rows = [
        {
            "id": new_id("ofc"),
            "offer_id": offer_id,
            "code": code,
            "grant_id": None,
            "created_at": now,
        }
        for code in dict.fromkeys(c.strip() for c in codes if c and c.strip())
    ]
    added = 0
    for start in range(0, len(rows), 1000):
        added += len(
            insert_ignoring_duplicates(
                db.session.connection(),
                OfferCode.__table__,
                rows[start : start + 1000],
                ["offer_id", "code"],
            )
        )
    # The codes themselves are secrets handed to members: the log keeps counts only.
    audit.record("offer.codes_imported", target=("offer", offer_id), after={"added": added})
    db.session.commit()
    return added


def grant_offer(
    offer_id: str,
    member_id: str,
    award_id: str | None,
    now=None,
    consent_purpose: str | None = None,
) -> dict:
    """Give the member the offer if it is open, in stock and not theirs yet
    (``consent_purpose``: the consent its delivery needs, for a targeted award's offer).

    Returns ``{"offer_id", "grant_id"}`` or ``{"offer_id", "refused": why}``.
    """
    now = now or utcnow()
    offer = db.session.get(Offer, offer_id)
    if offer is None or offer.status != "active":
        return {"offer_id": offer_id, "refused": "the offer is not available"}
    if (offer.starts_at and now < offer.starts_at) or (offer.ends_at and now >= offer.ends_at):
        return {"offer_id": offer_id, "refused": "the offer's window is closed"}
    existing = db.session.scalar(
        db.select(OfferGrant.id).where(
            OfferGrant.offer_id == offer_id, OfferGrant.member_id == member_id
        )
    )
    if existing:
        return {"offer_id": offer_id, "refused": "the member already has this offer"}
    c = Offer.__table__.c
    taken = db.session.execute(
        update(Offer.__table__)
        .where(c.id == offer_id, (c.inventory.is_(None)) | (c.granted_count < c.inventory))
        .values(granted_count=c.granted_count + 1)
    ).rowcount
    if taken != 1:
        return {"offer_id": offer_id, "refused": "the offer is sold out"}
    grant_id = new_id("ogr")
    code = None
    if offer.uses_codes:
        query = (
            db.select(OfferCode)
            .where(OfferCode.offer_id == offer_id, OfferCode.grant_id.is_(None))
            .order_by(OfferCode.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        row = db.session.scalars(query).first()
        if row is None:
            db.session.execute(
                update(Offer.__table__)
                .where(c.id == offer_id)
                .values(granted_count=c.granted_count - 1)
            )
            return {"offer_id": offer_id, "refused": "the offer has no codes left"}
        row.grant_id = grant_id
        code = row.code
    expires = now + timedelta(seconds=offer.grant_ttl_seconds) if offer.grant_ttl_seconds else None
    db.session.add(
        OfferGrant(
            id=grant_id,
            offer_id=offer_id,
            member_id=member_id,
            award_id=award_id,
            code=code,
            status="granted",
            granted_at=now,
            expires_at=expires,
        )
    )
    db.session.flush()
    rollups.add(db.session, "offers.granted", now, offer_id)
    outbox.record_offer_grant(
        grant_id,
        member_id,
        offer_id,
        product=offer.product,
        code=code,
        expires_at=isoformat(expires),
        award_id=award_id,
        consent_purpose=consent_purpose,
    )
    return {"offer_id": offer_id, "grant_id": grant_id}


def member_offers(member_id: str) -> list[dict]:
    now = utcnow()
    rows = db.session.execute(
        db.select(OfferGrant, Offer)
        .join(Offer, Offer.id == OfferGrant.offer_id)
        .where(OfferGrant.member_id == member_id)
        .order_by(OfferGrant.granted_at.desc(), OfferGrant.id.desc())
    ).all()
    return [_grant_view(grant, offer, now) for grant, offer in rows]


def _grant_view(grant: OfferGrant, offer: Offer, now) -> dict:
    status = grant.status
    if status == "granted" and grant.expires_at and grant.expires_at <= now:
        status = "expired"
    return {
        "id": grant.id,
        "offer_id": offer.id,
        "name": offer.name,
        "product": offer.product,
        "description": offer.description,
        "code": grant.code,
        "status": status,
        "granted_at": grant.granted_at,
        "expires_at": grant.expires_at,
        "redeemed_at": grant.redeemed_at,
    }


def redeem(member_id: str, grant_id: str) -> dict:
    """The backend marks a grant redeemed (once; not after it expired)."""
    grant = db.session.get(OfferGrant, grant_id, with_for_update=True)
    if grant is None or grant.member_id != member_id:
        raise Problem("not-found", f"No offer grant {grant_id!r} for this member.")
    now = utcnow()
    if grant.status == "redeemed":
        raise Problem("offer-not-redeemable", "The offer was already redeemed.")
    if grant.expires_at and grant.expires_at <= now:
        raise Problem("offer-not-redeemable", "The offer expired.")
    grant.status, grant.redeemed_at = "redeemed", now
    db.session.flush()
    rollups.add(db.session, "offers.redeemed", now, grant.offer_id)
    outbox.record_offer_redemption(grant.id, member_id, grant.offer_id)
    offer = db.session.get(Offer, grant.offer_id)
    view = _grant_view(grant, offer, now)
    db.session.commit()
    return view


def member_timeline(member_id: str, cursor, limit: int) -> list[dict]:
    """The member's offer grants for their timeline, newest first."""
    query = db.select(OfferGrant).where(OfferGrant.member_id == member_id)
    grants = timeline_rows(query, OfferGrant.granted_at, OfferGrant.id, "offer", cursor, limit)
    names = {
        offer.id: offer
        for offer in db.session.scalars(
            db.select(Offer).where(Offer.id.in_({g.offer_id for g in grants}))
        )
    }
    return [
        {
            "at": grant.granted_at,
            "source": "offer",
            "id": grant.id,
            "kind": "offer_granted",
            "offer_id": grant.offer_id,
            "name": names[grant.offer_id].name if grant.offer_id in names else None,
            "status": grant.status,
        }
        for grant in grants
    ]
