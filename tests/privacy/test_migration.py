"""Revision 0019_privacy: tombstones and the erasure log, the member of existing deliveries
(from their payloads), pruned payloads; upgrades and downgrades on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from loyalty_social import create_app
from loyalty_social.extensions import db

from ..conftest import make_config

BEFORE = "0018_rule_reviews"
AFTER = "0019_privacy"
ROW = (
    "INSERT INTO delivery (id, target, kind, idempotency_key, event_type, payload, status,"
    " attempts, next_attempt_at, give_up_at, created_at) VALUES"
    " (:id, 'backend', :kind, :id, NULL, :payload, 'pending', 0,"
    " '2026-01-01 00:00:00+00', '2026-01-02 00:00:00+00', '2026-01-01 00:00:00+00')"
)


def columns(table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(db.engine).get_columns(table)}


def test_upgrade_fills_delivery_members_and_downgrades(empty_database):
    app = create_app(make_config(empty_database))
    with app.app_context():
        upgrade(revision=BEFORE)
        for id_, kind, payload in (
            ("dlv_1", "award", '{"member_id": "M-1", "points": 5}'),
            ("dlv_2", "event", '{"type": "consent.changed", "data": {"member_id": "M-2"}}'),
            ("dlv_3", "event", '{"type": "x", "data": {}}'),
        ):
            db.session.execute(sa.text(ROW), {"id": id_, "kind": kind, "payload": payload})
        db.session.commit()
        upgrade(revision=AFTER)
        tables = set(sa.inspect(db.engine).get_table_names())
        assert {"erasure_tombstone", "erasure_log"} <= tables
        assert "pruned_at" in columns("activity_event")
        assert {"member_id", "consent_purpose", "claimed_until"} <= columns("delivery")
        rows = db.session.execute(sa.text("SELECT id, member_id FROM delivery ORDER BY id"))
        assert [tuple(r) for r in rows] == [("dlv_1", "M-1"), ("dlv_2", "M-2"), ("dlv_3", None)]
        db.session.commit()
        downgrade(revision=BEFORE)
        assert "erasure_log" not in set(sa.inspect(db.engine).get_table_names())
        assert not {"member_id", "consent_purpose", "claimed_until"} & columns("delivery")
        assert "pruned_at" not in columns("activity_event")
        assert db.session.execute(sa.text("SELECT count(*) FROM delivery")).scalar() == 3
        db.session.commit()
        upgrade()
        db.engine.dispose()
