"""Delivery in operation: due retries on the schedule with several workers, a slow subscriber
that never holds up event processing, private targets refused, stored errors kept short."""

from __future__ import annotations

import itertools
import threading
import time

import pytest
import redis as redis_lib
from rq.cron import get_cron_job_history_key
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from loyalty_social.delivery.models import DeliveryAttempt
from loyalty_social.extensions import db
from loyalty_social.intake.models import ActivityEvent

from ..helpers import envelope, seed, wait_until
from ..services import free_port
from .conftest import FAST, http_config
from .support import post, rows, start_delivering, wait_for

INTERVAL = 1


def sweep_times(redis_url: str) -> list[float]:
    connection = redis_lib.Redis.from_url(redis_url)
    history = get_cron_job_history_key("delivery.sweep")
    return sorted(score for _, score in connection.zrange(history, 0, -1, withscores=True))


@pytest.mark.postgres
def test_a_due_retry_is_sent_once_with_three_workers_on_the_schedule(
    pg_config, delivery_app, standin, start_worker
):
    backend = standin()
    backend.answer = (500, {"detail": "backend fell over"})
    config = http_config(pg_config, backend.url, SWEEP_INTERVAL_SECONDS=INTERVAL)
    app = delivery_app(config)
    seeded = seed(app)
    workers = [start_worker(config) for _ in range(3)]
    post(app.test_client(), seeded["secret"], envelope(member_id="M-retry"))
    wait_until(lambda: sum(backend.calls.values()) == 1, timeout=60)
    backend.answer = None  # the backend is back; the retry comes due after its backoff
    wait_for(app, {"delivered": 1})
    (row,) = rows(app)
    assert row.attempts == 2
    assert backend.calls == {row.idempotency_key: 2}, [w.log() for w in workers]
    times = sweep_times(config["REDIS_URL"])
    assert len(times) >= 2
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert all(gap >= INTERVAL * 0.9 for gap in gaps), gaps  # (enqueue jitter allowed)


class SlowSubscriber:
    """An endpoint that takes ``seconds`` to answer, counting calls begun and answered."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.begun = self.answered = 0
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/events"
        self._server = make_server("127.0.0.1", self.port, self._wsgi, threaded=True)
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    def _wsgi(self, environ, start_response):
        self.begun += 1
        time.sleep(self.seconds)
        self.answered += 1
        return Response(status=204)(environ, start_response)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def slow_subscriber():
    subscriber = SlowSubscriber(5)
    yield subscriber
    subscriber.stop()


def test_a_slow_subscriber_does_not_delay_event_processing(
    stack_config, delivery_app, start_worker, slow_subscriber
):
    """The first award's event goes to an endpoint that takes 5 s. While that call is still
    open, a second webhook is processed and paid: processing never waits behind delivery
    (RQ: its own queue and worker; embedded default: the delivery thread)."""
    from ..conftest import run_cli

    config = {**stack_config, **FAST}
    app = delivery_app(config)
    seeded = seed(app)
    added = run_cli(config, "subscription", "add", slow_subscriber.url, "--event", "award.created")
    assert added.returncode == 0, added.stderr
    if config["REDIS_URL"]:
        start_worker(config, "--queue", "events")
        start_worker(config, "--queue", "delivery", "--queue", "batch")
    client = app.test_client()
    post(client, seeded["secret"], envelope(member_id="M-first"))
    wait_until(lambda: slow_subscriber.begun == 1, timeout=60)
    (second,) = post(client, seeded["secret"], envelope(member_id="M-second"))

    def processed() -> bool:
        with app.app_context():
            status = db.session.get(ActivityEvent, second).status
            db.session.rollback()
        return status == "processed"

    wait_until(processed, timeout=30)
    assert slow_subscriber.answered == 0  # the slow call was still open all along
    balance = client.get("/api/v1/members/M-second/balance", headers=seeded["auth"])
    assert balance.json["points"] == 10


def test_private_targets_are_refused_unless_allowed(
    stack_config, delivery_app, standin, start_worker
):
    backend = standin()
    config = http_config(stack_config, backend.url, ALLOW_PRIVATE_TARGETS=False)
    app = delivery_app(config)
    seeded = seed(app, scopes=("read", "operator", "admin"))
    client = app.test_client()
    for url in (
        "http://127.0.0.1:9/events",
        "http://localhost:9/events",  # a name is resolved
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://10.1.2.3/hook",
        "http://[::ffff:127.0.0.1]/hook",
    ):
        answer = client.post(
            "/api/v1/subscriptions",
            json={"url": url, "event_types": ["award.created"]},
            headers=seeded["auth"],
        )
        assert answer.status_code == 422, (url, answer.json)
        assert "url" in str(answer.json), answer.json
    # The backend (configured at 127.0.0.1) is never called: the delivery fails, saying why.
    start_delivering(config, start_worker)
    post(client, seeded["secret"], envelope(member_id="M-private"))
    wait_for(app, {"failed": 1})
    (row,) = rows(app)
    assert "not called" in row.last_error and "loopback" in row.last_error
    assert sum(backend.calls.values()) == 0


def test_a_failed_delivery_keeps_only_the_start_of_the_answer(
    stack_config, delivery_app, standin, start_worker
):
    backend = standin()
    backend.answer = (422, {"detail": "no " + "x" * 5000})
    config = http_config(stack_config, backend.url)
    app = delivery_app(config)
    seeded = seed(app)
    start_delivering(config, start_worker)
    post(app.test_client(), seeded["secret"], envelope(member_id="M-long"))
    wait_for(app, {"failed": 1})
    (row,) = rows(app)
    assert row.last_error.startswith("422: no xxx")
    assert len(row.last_error) <= len("422: ") + 300
    with app.app_context():
        errors = list(db.session.scalars(db.select(DeliveryAttempt.error)))
    assert errors and all(len(error) <= len("422: ") + 300 for error in errors)


def test_a_delivery_job_is_killed_before_its_lease_ends(pg_config, make_app):
    """RQ kills a delivery job at DELIVERY_LEASE_SECONDS: the sweeper hands its rows to another
    job only once the lease is over, so two jobs never send the same row at the same time."""
    from loyalty_social.queue import enqueue, rq_queue

    app = make_app({**pg_config, "DELIVERY_LEASE_SECONDS": 123})
    with app.app_context():
        queue = rq_queue(app, "delivery")
        queue.empty()
        enqueue("delivery.deliver", ["dlv_none"])
        (job,) = queue.get_jobs()
        assert job.timeout == 123
        queue.empty()
