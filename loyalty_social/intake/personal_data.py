"""What intake holds about a member: their events, payloads included.

Erasure: events never processed are deleted (nothing points at them); the others stay as the
ledger's evidence, anonymised: they move to the anonymous member, lose their payload, object,
sender's webhook id and body hash, and keep type, times, status and what was paid
(``KEPT_OUTCOME``), so ledger totals still add up and name nobody.
"""

from __future__ import annotations

from sqlalchemy import and_, delete, update

from ..extensions import db
from ..privacy import Erasure, as_dict
from ..timeutil import utcnow
from .catalogue import referral_key
from .models import ActivityEvent

EVENT_COLUMNS = (
    "id",
    "source_name",
    "webhook_id",
    "type",
    "type_version",
    "occurred_at",
    "received_at",
    "evidence",
    "object_key",
    "data",
    "status",
    "processed_at",
    "outcome",
)
# What an anonymised event's outcome keeps: what was paid, held, skipped or reversed (ids and
# points), not the values the rules saw.
KEPT_OUTCOME = ("awards", "held", "reversed", "skipped")


def export_events(member_id: str) -> list[dict]:
    rows = db.session.scalars(
        db.select(ActivityEvent)
        .where(ActivityEvent.member_id == member_id)
        .order_by(ActivityEvent.received_at, ActivityEvent.id)
    )
    return [as_dict(e, EVENT_COLUMNS) for e in rows]


def kept_outcome(outcome: dict | None) -> dict | None:
    if outcome is None:
        return None
    return {key: outcome[key] for key in KEPT_OUTCOME if key in outcome}


def erase_events(erasure: Erasure) -> dict:
    table = ActivityEvent.__table__
    c = table.c
    mine = c.member_id == erasure.member_id
    never_processed = and_(mine, c.status == "pending", c.outcome.is_(None))
    deleted = db.session.execute(delete(table).where(never_processed)).rowcount
    kept = db.session.execute(db.select(c.id, c.outcome, c.status).where(mine).order_by(c.id)).all()
    now = utcnow()
    for event_id, outcome, status in kept:
        db.session.execute(
            update(table)
            .where(c.id == event_id)
            .values(
                member_id=erasure.anonymous_id,
                webhook_id="erased:" + event_id,
                data={},
                object_key=None,
                body_sha256="",
                outcome=kept_outcome(outcome),
                status="processed" if status == "pending" else status,
                error=None,
                pruned_at=now,
            )
        )
    return {
        "events_deleted": deleted,
        "events_anonymised": len(kept),
        "referrals_redacted": _redact_referrals(erasure),
    }


def _redact_referrals(erasure: Erasure) -> int:
    """Other members' referral events (referral.converted, referral.attributed) stay as the
    evidence of what they paid, naming the erased member no more. Their object key holds only
    the keyed hash (``referral_key``), which is how they are found (indexed)."""
    redacted = 0
    for event in db.session.scalars(
        db.select(ActivityEvent).where(
            ActivityEvent.object_key == referral_key(erasure.member_id),
            ActivityEvent.member_id != erasure.member_id,
        )
    ):
        if (event.data or {}).get("referred_member_id") == erasure.member_id:
            event.data = {**event.data, "referred_member_id": erasure.anonymous_id}
            redacted += 1
    return redacted


def member_ids() -> list[str]:
    return list(db.session.scalars(db.select(ActivityEvent.member_id).distinct()))
