"""Retention: the scheduled job prunes raw payloads older than EVENT_PAYLOAD_RETENTION_DAYS in
batches; ids, types, outcomes and amounts stay, so past awards are still explained. On
PostgreSQL and SQLite."""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa

from loyalty_social.extensions import db
from loyalty_social.intake.models import ActivityEvent
from loyalty_social.queue import periodic
from loyalty_social.rewards.models import Award, LedgerEntry
from loyalty_social.rules import explanations
from loyalty_social.timeutil import utcnow

from ..helpers import drain, envelope, seed, signed


def test_old_payloads_are_pruned_in_batches_and_awards_stay_explained(
    stack_config, make_app, caplog
):
    app = make_app(stack_config | {"RETENTION_BATCH_SIZE": "2"})
    seeded = seed(app)
    client = app.test_client()
    for i in range(7):
        raw, headers = signed(seeded["secret"], envelope(member_id=f"M-old-{i % 2}"))
        assert client.post("/webhooks/backend", data=raw, headers=headers).status_code == 202
    drain(app)
    with app.app_context():
        ids = list(db.session.scalars(sa.select(ActivityEvent.id).order_by(ActivityEvent.id)))
        old, recent = ids[:5], ids[5:]
        db.session.execute(
            sa.update(ActivityEvent)
            .where(ActivityEvent.id.in_(old))
            .values(received_at=utcnow() - timedelta(days=401))
        )
        db.session.commit()
        ledger_before = db.session.scalar(sa.select(sa.func.sum(LedgerEntry.points)))
        db.session.commit()  # the job runs in its own app context (SQLite: one writer)
        [job] = [spec for spec in periodic() if spec.name == "intake.prune_payloads"]
        assert job.every == "RETENTION_INTERVAL_SECONDS" and job.queue == "batch"
        with caplog.at_level(logging.INFO, logger="loyalty_social.intake.retention"):
            assert job.func() == 5
            assert job.func() == 0  # nothing left to prune: idempotent
        events = {e.id: e for e in db.session.scalars(sa.select(ActivityEvent))}
        for event_id in old:
            event = events[event_id]
            assert event.data == {} and event.pruned_at is not None
            assert event.type == "social.shared" and event.status == "processed"
            assert [a["points"] for a in event.outcome["awards"]] == [10]
            records = explanations.event_records(event)
            assert any(r.get("result") == "paid" for r in records), records
        for event_id in recent:
            assert events[event_id].data["network"] == "x" and events[event_id].pruned_at is None
        assert db.session.scalar(sa.select(sa.func.count(Award.id))) == 7
        assert db.session.scalar(sa.select(sa.func.sum(LedgerEntry.points))) == ledger_before
        db.session.commit()
    messages = [r.getMessage() for r in caplog.records]
    assert "retention: 2 event payloads pruned so far" in messages
    assert "retention: 5 event payloads older than 400 days pruned" in messages
    assert not any("M-old" in m for m in messages)  # counts only, nothing personal
