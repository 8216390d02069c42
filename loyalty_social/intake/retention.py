"""Retention: raw event payloads older than EVENT_PAYLOAD_RETENTION_DAYS are pruned.

What a sender sent (``data``) goes; the event's id, source, type, times, evidence, object key,
status and outcome (what each rule paid or refused, and why) stay, with the awards and ledger
entries pointing at it, so a past award is still explained. Batches of RETENTION_BATCH_SIZE,
one short transaction each, found through a partial index of unpruned events by arrival, so
a run costs what it prunes, not the size of history. Logs counts only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import update

from ..extensions import db
from ..timeutil import utcnow
from .models import ActivityEvent

log = logging.getLogger(__name__)


def prune_payloads(
    days: int, batch_size: int, progress: Callable[[int], None] | None = None
) -> int:
    """Prune payloads of events received more than ``days`` ago (0: keep them); returns how
    many were pruned. Pending events are left for processing."""
    if days <= 0:
        return 0
    cutoff = utcnow() - timedelta(days=days)
    c = ActivityEvent.__table__.c
    total = 0
    while True:
        ids = list(
            db.session.scalars(
                db.select(c.id)
                .where(c.pruned_at.is_(None), c.received_at < cutoff, c.status != "pending")
                .order_by(c.received_at)
                .limit(batch_size)
            )
        )
        if not ids:
            db.session.rollback()
            break
        db.session.execute(
            update(ActivityEvent.__table__)
            .where(c.id.in_(ids), c.pruned_at.is_(None))
            .values(data={}, pruned_at=utcnow())
        )
        db.session.commit()
        total += len(ids)
        log.info("retention: %d event payloads pruned so far", total)
        if progress:
            progress(len(ids))
        if len(ids) < batch_size:
            break
    log.info("retention: %d event payloads older than %d days pruned", total, days)
    return total
