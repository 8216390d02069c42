"""One award at a time, for the API: read and list awards, approve or reject a held one, and
reverse a granted one by hand. Each locks the member first (balances and counters are the
member's), then pays or reverses through ``service``, the one path for both."""

from __future__ import annotations

from ..errors import Problem
from ..extensions import db
from ..identity import service as identity
from ..sql import timeline_rows
from ..timeutil import utcnow
from .models import Award
from .service import Grant, credit, event_networks, reverse


def get_award(award_id: str, lock: bool = False) -> Award:
    award = db.session.get(Award, award_id, with_for_update=lock or None)
    if award is None:
        raise Problem("not-found", f"No award {award_id!r}.")
    return award


def approve(award_id: str, actor: str | None) -> Award:
    """Pay a held award now (its limits were consumed when it was held)."""
    award = _held(award_id)
    now = utcnow()
    award.status, award.decided_by, award.decided_at = "granted", actor, now
    offers = tuple((award.details or {}).get("offers") or ())
    item = Grant(
        award.rule_id,
        award.rule_version,
        award.event_id,
        award.member_id,
        award.object_key,
        award.points,
        award_id=award.id,
        offers=offers,
        consent_ref=award.consent_ref,
        network=event_networks({award.event_id}).get(award.event_id, ""),
    )
    db.session.flush()
    credit([item], now, actor)
    return award


def reject(award_id: str, actor: str | None, reason: str) -> Award:
    """Refuse a held award; the limits and budget it held are given back."""
    award = _held(award_id)
    award.status, award.decided_by, award.decided_at = "rejected", actor, utcnow()
    award.reason = reason
    return award


def _held(award_id: str) -> Award:
    award = get_award(award_id)
    identity.lock_members([award.member_id])  # balances and counters: the member's lock
    db.session.refresh(award, with_for_update=True)
    if award.status != "held":
        why = f" ({award.reason})" if award.reason else ""
        raise Problem("award-not-held", f"Award {award_id!r} is {award.status}, not held{why}.")
    return award


def list_awards(
    status: str | None = None,
    member_id: str | None = None,
    rule_id: str | None = None,
    after: str | None = None,
    limit: int = 50,
):
    query = db.select(Award).order_by(Award.id.desc()).limit(limit + 1)
    if status:
        query = query.where(Award.status == status)
    if member_id:
        query = query.where(Award.member_id == member_id)
    if rule_id:
        query = query.where(Award.rule_id == rule_id)
    if after:
        query = query.where(Award.id < after)
    rows = list(db.session.scalars(query))
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def admin_reverse(award_id: str, reason: str, actor: str | None) -> Award:
    award = get_award(award_id)
    identity.lock_members([award.member_id])
    if award.status != "granted":
        raise Problem("award-not-granted", f"Award {award_id!r} is {award.status}.")
    reverse([award_id], None, f"reversed by {actor or 'an admin'}: {reason}", actor)
    db.session.refresh(award)
    return award


def member_timeline(member_id: str, cursor, limit: int) -> list[dict]:
    """The member's awards for their timeline, newest first."""
    query = db.select(Award).where(Award.member_id == member_id)
    return [
        {
            "at": award.created_at,
            "source": "award",
            "id": award.id,
            "kind": "award",
            "points": award.points,
            "status": award.status,
            "rule_id": award.rule_id,
            "event_id": award.event_id,
        }
        for award in timeline_rows(query, Award.created_at, Award.id, "award", cursor, limit)
    ]
