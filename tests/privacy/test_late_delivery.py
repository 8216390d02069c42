"""A late delivery recreates nothing downstream: an outbox row about a member erased after it
was written (a race with the erasure) is cancelled when a real RQ worker claims it, and the
backend never hears of it; the other member's row is delivered."""

from __future__ import annotations

import sqlalchemy as sa
from rq import SimpleWorker

from loyalty_social.delivery.models import Delivery
from loyalty_social.extensions import db
from loyalty_social.intake.committer import pipeline
from loyalty_social.privacy.models import Tombstone
from loyalty_social.privacy.tombstones import member_hash
from loyalty_social.queue import redis_connection, rq_queues
from loyalty_social.timeutil import utcnow

from ..delivery.conftest import http_config, standin  # noqa: F401  (fixture)
from ..helpers import drain, envelope, seed, signed


def test_a_row_about_an_erased_member_is_cancelled_not_sent(pg_config, make_app, standin):  # noqa: F811
    backend = standin()
    app = make_app(http_config(pg_config, backend.url))
    seeded = seed(app)
    client = app.test_client()
    for member in ("M-late", "M-kept"):
        raw, headers = signed(seeded["secret"], envelope(member_id=member))
        assert client.post("/webhooks/backend", data=raw, headers=headers).status_code == 202
    assert pipeline(app).dispatcher.flush(30)
    with app.app_context():  # processed, its credit written, not delivered yet: then erased
        SimpleWorker(rq_queues(names=("events",)), connection=redis_connection()).work(burst=True)
        rows = list(db.session.scalars(sa.select(Delivery)))
        assert {(r.member_id, r.status) for r in rows} == {
            ("M-late", "pending"),
            ("M-kept", "pending"),
        }
        db.session.add(Tombstone(member_hash=member_hash("M-late"), erased_at=utcnow()))
        db.session.commit()
    drain(app)  # a real RQ worker runs the delivery jobs
    with app.app_context():
        states = {
            r.idempotency_key: (r.status, r.payload)
            for r in db.session.scalars(sa.select(Delivery))
        }
        db.session.commit()
    late = [s for s in states.values() if s[0] == "cancelled"]
    assert len(late) == 1 and "M-late" not in str(late)
    delivered = next(s for s in states.values() if s[0] == "delivered")
    assert delivered[1]["member_id"] == "M-kept"
    assert "M-late" not in str(backend.bodies) and backend.points["M-kept"] == 10
