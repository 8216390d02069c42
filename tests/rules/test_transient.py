"""Transient database errors never fail an event: the batch is retried with backoff (RQ's
Retry, then the sweeper) and the event waits, pending, until it goes through (PostgreSQL, a
real RQ worker process, a real lock held by another session)."""

import pytest
import sqlalchemy as sa

from loyalty_social.extensions import db
from loyalty_social.intake.committer import pipeline
from loyalty_social.intake.models import ActivityEvent
from loyalty_social.intake.service import TEMPORARY
from loyalty_social.rewards.models import Award
from loyalty_social.sql import is_transient

from ..helpers import envelope, seed, signed, wait_until

pytestmark = pytest.mark.postgres


def _event(app, event_id) -> ActivityEvent:
    with app.app_context():
        event = db.session.get(ActivityEvent, event_id)
        db.session.expunge_all()
        db.session.remove()
        return event


def test_a_member_locked_by_another_session_waits_and_is_paid_once(
    pg_config, make_app, start_worker
):
    config = pg_config | {"PROCESS_LOCK_TIMEOUT_SECONDS": 0.2}
    app = make_app(config)
    seeded = seed(app, rules=(("social.shared", 10),), scopes=("read",))
    client = app.test_client()
    with app.app_context():
        db.session.execute(
            sa.text(
                "INSERT INTO member (id, attributes, created_at, updated_at) "
                "VALUES ('M-LOCK', '{}', now(), now())"
            )
        )
        db.session.commit()
        url = db.engine.url
    blocker = sa.create_engine(url).connect()  # another session: the member's row, locked
    blocker.execute(sa.text("SELECT id FROM member WHERE id = 'M-LOCK' FOR UPDATE")).one()
    try:
        raw, headers = signed(seeded["secret"], envelope(member_id="M-LOCK"))
        accepted = client.post("/webhooks/backend", data=raw, headers=headers)
        assert accepted.status_code == 202
        event_id = accepted.json["id"]
        assert pipeline(app).dispatcher.flush(30)
        worker = start_worker(config)
        # The lock times out: the event stays pending and says why it waits.
        waiting = wait_until(lambda: (e := _event(app, event_id)).attempts >= 1 and e, 60)
        assert waiting.status == "pending", worker.log()
        assert waiting.error.startswith(TEMPORARY) and "lock" in waiting.error
        explained = client.get(
            f"/api/v1/members/M-LOCK/events/{event_id}/explanation", headers=seeded["auth"]
        ).json
        assert explained["status"] == "pending" and "temporary" in explained["summary"]
    finally:
        blocker.rollback()  # the other session lets go
        blocker.close()
    done = wait_until(lambda: (e := _event(app, event_id)).status != "pending" and e, 90)
    assert done.status == "processed" and done.error is None, worker.log()
    assert [a["points"] for a in done.outcome["awards"]] == [10]
    with app.app_context():
        awards = db.session.scalars(sa.select(Award).where(Award.member_id == "M-LOCK")).all()
        assert [a.points for a in awards] == [10]
    balance = client.get("/api/v1/members/M-LOCK/balance", headers=seeded["auth"]).json
    assert balance["points"] == 10


def test_only_errors_that_pass_by_themselves_count_as_transient(pg_rapp):
    """The classification the retry relies on, on real PostgreSQL errors."""
    with pg_rapp.app_context():
        engine = db.engine
    with engine.connect() as holder, engine.connect() as waiter:
        holder.execute(sa.text("SELECT pg_advisory_xact_lock(4242)"))
        waiter.execute(sa.text("SET lock_timeout = 100"))
        with pytest.raises(sa.exc.DBAPIError) as lock_timeout:
            waiter.execute(sa.text("SELECT pg_advisory_xact_lock(4242)"))
        assert is_transient(lock_timeout.value)
        waiter.rollback()
        waiter.execute(sa.text("SET statement_timeout = 50"))
        with pytest.raises(sa.exc.DBAPIError) as statement_timeout:
            waiter.execute(sa.text("SELECT pg_sleep(1)"))
        assert is_transient(statement_timeout.value)
        waiter.rollback()
        for broken in ("SELECT 1 / 0", "SELECT * FROM no_such_table", "SELECT 'x'::int"):
            with pytest.raises(sa.exc.DBAPIError) as error:
                waiter.execute(sa.text(broken))
            assert not is_transient(error.value), broken
            waiter.rollback()
