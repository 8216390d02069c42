"""What delivery holds about a member: the outbox rows about them (backend calls and outbound
events) and their attempts. Erasure cancels what was not sent yet (a late delivery recreates
nothing downstream) and blanks every payload and answer; the rows' kinds, statuses and times
stay for inspection."""

from __future__ import annotations

from sqlalchemy import update

from ..extensions import db
from ..privacy import Erasure, as_dict
from .models import Delivery, DeliveryAttempt

ERASED = "not sent: the member was erased"
REDACTED = {"redacted": "the member was erased"}
COLUMNS = (
    "id",
    "target",
    "kind",
    "event_type",
    "status",
    "attempts",
    "created_at",
    "delivered_at",
    "payload",
)


def export_deliveries(member_id: str) -> list[dict]:
    rows = db.session.scalars(
        db.select(Delivery).where(Delivery.member_id == member_id).order_by(Delivery.id)
    )
    return [as_dict(r, COLUMNS) for r in rows]


def erase_deliveries(erasure: Erasure) -> dict:
    mine = Delivery.member_id == erasure.member_id
    ids = list(db.session.scalars(db.select(Delivery.id).where(mine)))
    if not ids:
        return {}
    cancelled = db.session.execute(
        update(Delivery)
        .where(mine, Delivery.status != "delivered")  # never sent, nor retried by hand
        .values(status="cancelled", last_error=ERASED)
    ).rowcount
    db.session.execute(
        update(Delivery)
        .where(mine)
        .values(payload=REDACTED, member_id=None, last_error=ERASED)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(DeliveryAttempt)
        .where(DeliveryAttempt.delivery_id.in_(ids))
        .values(error=None)
        .execution_options(synchronize_session=False)
    )
    return {"deliveries_cancelled": cancelled, "deliveries_redacted": len(ids)}
