"""Members: created on first sight, locked while their events are evaluated."""

from __future__ import annotations

from ..extensions import db
from ..sql import insert_ignoring_duplicates
from ..timeutil import utcnow
from .models import Member


def lock_members(member_ids: list[str]) -> dict[str, Member]:
    """Create missing members, then lock all of them (sorted, so workers never deadlock).

    Holding the member rows for the batch's transaction serialises evaluation per member across
    workers: limits and reversals for one member are decided one event at a time.
    """
    ordered = sorted(set(member_ids))
    if not ordered:
        return {}
    now = utcnow()
    insert_ignoring_duplicates(
        db.session.connection(),
        Member.__table__,
        [
            {"id": mid, "tier": None, "attributes": {}, "created_at": now, "updated_at": now}
            for mid in ordered
        ],
        ["id"],
    )
    query = db.select(Member).where(Member.id.in_(ordered)).order_by(Member.id).with_for_update()
    return {member.id: member for member in db.session.scalars(query)}


def apply_update(member: Member, tier: str | None, attributes: dict | None) -> None:
    if tier is not None:
        member.tier = tier
    if attributes:
        member.attributes = {**(member.attributes or {}), **attributes}
    member.updated_at = utcnow()


def get_member(member_id: str) -> Member | None:
    return db.session.get(Member, member_id)
