"""Operators' view of the outbox: list and read deliveries and their attempts, count them by
status, and send failed or dead-lettered rows again (with what waited on them)."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from ..errors import Problem
from ..extensions import db
from ..sql import newest_first_page
from ..timeutil import utcnow
from .handoff import kick_after_commit
from .models import GIVEN_UP, Delivery, DeliveryAttempt


def list_deliveries(
    status=None, failed=False, target=None, kind=None, award_id=None, after=None, limit=50
) -> tuple[list[Delivery], str | None]:
    """Newest first, keyset-paginated by id; ``failed`` means failed or dead-lettered."""
    filters = {
        Delivery.status: status,
        Delivery.target: target,
        Delivery.kind: kind,
        Delivery.award_id: award_id,
    }
    conditions = [Delivery.status.in_(GIVEN_UP)] if failed else []
    return newest_first_page(Delivery, filters, after, limit, *conditions)


def given_up_by_target(targets: list[str]) -> dict[str, int]:
    """How many deliveries to each target failed or were dead-lettered (and not yet retried):
    one grouped count over the (target, idempotency_key) index."""
    if not targets:
        return {}
    rows = db.session.execute(
        select(Delivery.target, func.count())
        .where(Delivery.target.in_(targets), Delivery.status.in_(GIVEN_UP))
        .group_by(Delivery.target)
    )
    return {target: count for target, count in rows}


def get_delivery(delivery_id: str) -> Delivery:
    row = db.session.get(Delivery, delivery_id)
    if row is None:
        raise Problem("not-found", f"No delivery {delivery_id!r}.")
    return row


def attempts_of(delivery_id: str) -> list[DeliveryAttempt]:
    return list(
        db.session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.delivery_id == delivery_id)
            .order_by(DeliveryAttempt.id)
        )
    )


def retry(delivery_id: str) -> Delivery:
    """Send a failed or dead-lettered row again, with a fresh horizon (and what waited on it)."""
    row = db.session.get(Delivery, delivery_id, with_for_update=True)
    if row is None:
        raise Problem("not-found", f"No delivery {delivery_id!r}.")
    if row.status not in GIVEN_UP:
        raise Problem(
            "delivery-not-retryable", f"Delivery {delivery_id} is {row.status}; nothing to retry."
        )
    # Waiting on a row that gave up too: that one goes first, and brings this one back with it.
    first = row
    while first.after_id is not None:
        before = db.session.get(Delivery, first.after_id, with_for_update=True)
        if before.status not in GIVEN_UP:
            break
        first = before
    _reopen([first])
    db.session.commit()
    return row


def retry_all() -> int:
    """Send every failed and dead-lettered row again; returns how many."""
    total = 0
    while True:
        rows = list(
            db.session.scalars(
                select(Delivery)
                .where(Delivery.status.in_(GIVEN_UP))
                .order_by(Delivery.id)
                .limit(1000)
                .with_for_update()
            )
        )
        if not rows:
            db.session.rollback()
            return total
        total += _reopen(rows)
        db.session.commit()


def _reopen(rows: list[Delivery]) -> int:
    now = utcnow()
    horizon = timedelta(seconds=current_app.config["DELIVERY_RETRY_HORIZON_SECONDS"])
    count = 0
    while rows:
        for row in rows:
            row.status, row.attempts = "pending", 0
            row.next_attempt_at, row.give_up_at, row.enqueued_at = now, now + horizon, now
        kick_after_commit([row.id for row in rows])
        count += len(rows)
        # Rows that gave up because these did come back with them.
        rows = list(
            db.session.scalars(
                select(Delivery).where(
                    Delivery.after_id.in_([r.id for r in rows]), Delivery.status.in_(GIVEN_UP)
                )
            )
        )
    return count


def counts_by_status() -> dict[str, int]:
    rows = db.session.execute(select(Delivery.status, func.count()).group_by(Delivery.status))
    return {status: count for status, count in rows}
