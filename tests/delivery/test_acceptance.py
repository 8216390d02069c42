"""Acceptance of issue 5, with real processes: a flaky backend, a killed worker, an outage."""

from __future__ import annotations

import signal

import pytest

from loyalty_social.delivery import inspection, service
from loyalty_social.extensions import db
from loyalty_social.intake.committer import pipeline
from loyalty_social.queue import rq_queue
from loyalty_social.rewards.service import balance
from loyalty_social.rules.jobs import process_events

from ..conftest import run_cli
from ..helpers import seed, wait_until
from ..services import free_port
from .conftest import http_config
from .support import award_keys, post, post_many, review, rows, shares, start_delivering, wait_for


def test_a_flaky_backend_applies_every_award_exactly_once(
    stack_config, delivery_app, standin, start_worker
):
    """30% of calls fail (500, or hang past our timeout) and 15% are applied but their answer
    is lost (connection dropped, or too late): each award still lands once, reversals after."""
    backend = standin(token="backend-token")
    backend.fail_rate, backend.drop_rate, backend.hang_seconds = 0.3, 0.15, 0.4
    config = http_config(
        stack_config, backend.url, BACKEND_TOKEN="backend-token", BACKEND_READ_TIMEOUT_SECONDS=0.2
    )
    app = delivery_app(config)
    seeded = seed(app, rules=(("social.shared", 10), ("review.published", 25)))
    start_delivering(config, start_worker)
    reviews = [review(f"R-{i}", f"rv-{i}") for i in range(10)]
    post_many(app, seeded["secret"], shares(100) + reviews)
    wait_until(lambda: len(award_keys(app)) == 110, timeout=60)
    removals = [review(f"R-{i}", f"rv-{i}", removed=True) for i in range(5)]
    post_many(app, seeded["secret"], removals)

    wait_for(app, {"delivered": 115}, timeout=90)
    keys = {row.idempotency_key for row in rows(app)}
    assert backend.applied_keys() == keys
    assert set(backend.applied.values()) == {1}
    assert sum(backend.calls.values()) > len(keys) + 20  # failures and lost answers were retried
    for row in rows(app, kind="reversal"):
        assert backend.position(row.award_id) < backend.position(row.idempotency_key)
    with app.app_context():
        for member in {row.payload["member_id"] for row in rows(app)}:
            assert backend.points[member] == balance(member), member
        db.session.remove()


@pytest.mark.postgres
def test_a_worker_killed_mid_batch_loses_nothing_and_applies_each_once(
    pg_config, delivery_app, standin, start_worker
):
    backend = standin()
    backend.latency = 0.01  # so a batch of 500 takes long enough to be interrupted
    config = http_config(
        pg_config,
        backend.url,
        DELIVERY_BATCH_SIZE=500,
        DELIVERY_CONCURRENCY=4,
        DELIVERY_LEASE_SECONDS=3,
        SWEEP_AFTER_SECONDS=1,
    )
    app = delivery_app(config)
    seeded = seed(app)
    event_ids = post_many(app, seeded["secret"], shares(1000))
    assert pipeline(app).dispatcher.flush(60)
    with app.app_context():
        rq_queue(app, "events").empty()  # evaluate here instead, in batches, as workers would
        for start in range(0, 1000, 200):
            process_events(event_ids[start : start + 200])
        queue = rq_queue(app, "delivery")
        queue.empty()  # lose the delivery jobs those commits enqueued ...
        assert service.sweep(0) == 1000  # ... so the sweeper hands the rows over, in batches
        assert queue.count == 2  # 1,000 deliveries: two jobs of 500
    assert len(award_keys(app)) == 1000

    worker = start_worker(config)
    wait_until(lambda: len(backend.applied) >= 100, interval=0.01)
    worker.process.send_signal(signal.SIGKILL)
    worker.process.wait(10)
    applied_at_kill = len(backend.applied)
    assert applied_at_kill < 1000, "the worker finished before it could be killed"

    start_worker(config)  # its sweeper takes the dead worker's rows once their lease ends
    wait_for(app, {"delivered": 1000}, timeout=90)
    assert backend.applied_keys() == award_keys(app)
    assert set(backend.applied.values()) == {1}
    resent = sum(1 for calls in backend.calls.values() if calls > 1)
    assert resent >= 1  # the interrupted batch went out again; the backend deduplicated it


def test_backend_down_dead_letters_after_the_horizon_then_a_manual_retry_delivers_once(
    stack_config, delivery_app, standin, start_worker
):
    port = free_port()  # nothing listens there: the backend is down for the whole run
    config = http_config(stack_config, f"http://127.0.0.1:{port}", DELIVERY_RETRY_HORIZON_SECONDS=2)
    app = delivery_app(config)
    seeded = seed(app)
    start_delivering(config, start_worker)
    post(app.test_client(), seeded["secret"], *shares(20))

    wait_for(app, {"dead": 20}, timeout=45)
    dead = rows(app)
    assert sum(row.attempts for row in dead) > len(dead)  # retried with backoff ...
    with app.app_context():
        for row in dead:  # ... and given up only by an attempt at or after the horizon
            history = inspection.attempts_of(row.id)
            assert {a.outcome for a in history} == {"retry"}
            assert history[-1].attempted_at >= row.give_up_at
            assert "ConnectionError" in row.last_error
    listed = run_cli(config, "delivery", "list", "--failed")
    assert listed.returncode == 0, listed.stderr
    assert len(listed.stdout.strip().splitlines()) == 20

    backend = standin(port=port)  # the backend is back
    retried = run_cli(config, "delivery", "retry", "--all")
    assert retried.returncode == 0, retried.stderr
    assert retried.stdout.strip() == "retried 20 deliveries"
    wait_for(app, {"delivered": 20})
    assert backend.applied_keys() == award_keys(app)
    assert set(backend.applied.values()) == {1}
