"""The schedule and the sweeper, with real processes: RQ workers and their scheduler leader on
PostgreSQL + Redis, and the embedded default's in-process schedule under granian."""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from collections import Counter
from datetime import datetime

import pytest
import redis as redis_lib
from rq.cron import get_cron_job_history_key
from rq.job import Job

from loyalty_social.extensions import db
from loyalty_social.intake.committer import pipeline, store_events
from loyalty_social.intake.models import ActivityEvent
from loyalty_social.intake.service import build_event_row
from loyalty_social.intake.sources import load_source
from loyalty_social.queue import rq_queue, spec

from .helpers import envelope, seed, signed, wait_until

INTERVAL = 2


def strand_event(app, member_id: str) -> str:
    """Store a pending event the way intake does, then "crash" before handing it to a job."""
    with app.app_context():
        body = json.dumps(envelope(member_id=member_id)).encode()
        row = build_event_row(load_source("backend"), f"msg_{uuid.uuid4().hex}", body, 300)
        db.session.rollback()  # SQLite: one writer; the session's read holds it
        with db.engine.connect() as connection:
            (result,) = store_events(connection, [row])
    return result.id


def event_status(app, event_id: str) -> str:
    with app.app_context():
        status = db.session.get(ActivityEvent, event_id).status
        db.session.rollback()
        return status


def sweep_enqueue_times(redis_url: str, queue_name: str) -> list[float]:
    connection = redis_lib.Redis.from_url(redis_url)
    entries = connection.zrange(get_cron_job_history_key("intake.sweep"), 0, -1, withscores=True)
    return sorted(score for _, score in entries)


def assert_at_most_once_per_interval(times: list[float], interval: float) -> None:
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    # Recorded when each job was enqueued, a moment after its interval was claimed: allow
    # for that jitter (several schedulers enqueueing on their own would show gaps near 0).
    assert all(gap >= interval * 0.9 for gap in gaps), gaps


@pytest.mark.postgres
def test_sweeper_runs_once_per_interval_with_three_workers(pg_config, make_app, start_worker):
    config = dict(pg_config, SWEEP_INTERVAL_SECONDS=INTERVAL, SWEEP_AFTER_SECONDS=1)
    app = make_app(config)
    seed(app)
    stranded = strand_event(app, "M-stranded")
    workers = [start_worker(config) for _ in range(3)]
    # The stranded event is found by the sweeper and paid, although no one enqueued it.
    wait_until(lambda: event_status(app, stranded) == "processed", timeout=60)
    wait_until(lambda: len(sweep_enqueue_times(config["REDIS_URL"], "events")) >= 4, timeout=60)
    workers[0].stop()  # whoever led, the schedule goes on, still once per interval
    before = len(sweep_enqueue_times(config["REDIS_URL"], "events"))
    wait_until(
        lambda: len(sweep_enqueue_times(config["REDIS_URL"], "events")) >= before + 3, timeout=60
    )
    times = sweep_enqueue_times(config["REDIS_URL"], "events")
    assert_at_most_once_per_interval(times, INTERVAL)
    # Each sweep ran as a job on a worker and finished.
    connection = redis_lib.Redis.from_url(config["REDIS_URL"])
    job_ids = connection.zrange(get_cron_job_history_key("intake.sweep"), 0, -3)
    statuses = {Job.fetch(i.decode(), connection=connection).get_status() for i in job_ids}
    assert statuses == {"finished"}, [w.log() for w in workers]


@pytest.mark.postgres
def test_sweeper_enqueues_each_pending_event_once_after_workers_were_down(
    pg_config, make_app, start_worker
):
    """No worker runs while events keep arriving; the sweeper then runs twice. It leaves the
    jobs still waiting in the queue alone and re-enqueues only the events whose job is surely
    gone (lost before the oldest waiting job was created): every pending event sits in at most
    one job. An event lost behind waiting jobs is picked up once the queue has moved past it."""
    config = dict(pg_config, SWEEP_AFTER_SECONDS=1)
    app = make_app(config)
    seeded = seed(app)
    client = app.test_client()
    lost_early = [strand_event(app, f"M-lost-{index}") for index in range(5)]
    time.sleep(1.2)  # lost more than SWEEP_AFTER_SECONDS before the queue built up
    waiting = []
    for index in range(30):
        raw, headers = signed(seeded["secret"], envelope(member_id=f"M-{index % 7}"))
        waiting.append(client.post("/webhooks/backend", data=raw, headers=headers).json["id"])
    assert pipeline(app).dispatcher.flush(30)
    lost_late = [strand_event(app, "M-lost-late")]
    time.sleep(1.5)  # everything is now older than SWEEP_AFTER_SECONDS

    def held_event_ids() -> Counter:
        held = Counter()
        for job in rq_queue(app, "events").get_jobs():
            if job.func_name.endswith("process_events"):
                held.update(job.args[0])
        return held

    def sweep() -> None:  # the sweep job, as a worker runs it
        with app.app_context():
            spec("intake.sweep").func()

    for _ in range(2):  # two sweep intervals
        sweep()
        held = held_event_ids()
        assert set(held) == set(waiting) | set(lost_early)
        assert max(held.values()) == 1, {k: v for k, v in held.items() if v > 1}
    start_worker(config, "--burst").process.wait(120)
    sweep()  # the queue has moved past the late one: its job is surely gone now
    assert held_event_ids() == Counter(lost_late)
    start_worker(config, "--burst").process.wait(120)
    with app.app_context():
        statuses = Counter(
            db.session.scalars(
                db.select(ActivityEvent.status).where(
                    ActivityEvent.id.in_(waiting + lost_early + lost_late)
                )
            )
        )
    assert statuses == {"processed": 36}


def test_embedded_schedule_runs_under_steady_traffic(sqlite_config, make_app, serve):
    """Two web processes on the embedded default, webhooks arriving all the time: the schedule
    still runs (the old sweeper waited for an idle moment that never came), in one process,
    at most once per interval."""
    config = dict(sqlite_config, SWEEP_INTERVAL_SECONDS=1, LOG_FORMAT="json", LOG_LEVEL="INFO")
    app = make_app(config)
    seeded = seed(app)
    stranded = strand_event(app, "M-stranded")
    server = serve(config, workers=2)
    stop = threading.Event()
    sent = Counter()

    def stream() -> None:
        import requests

        session = requests.Session()
        while not stop.is_set():
            raw, headers = signed(seeded["secret"], envelope(member_id="M-steady"))
            answer = session.post(f"{server.url}/webhooks/backend", data=raw, headers=headers)
            sent[answer.status_code] += 1

    sender = threading.Thread(target=stream, daemon=True)
    sender.start()
    try:
        wait_until(lambda: event_status(app, stranded) == "processed", timeout=60)
        wait_until(lambda: len(schedule_runs(server)) >= 4, timeout=60)
    finally:
        stop.set()
        sender.join(10)
    assert sent[202] > 0 and set(sent) == {202}, sent
    runs = schedule_runs(server)
    assert len({process for process, _ in runs}) == 1, runs
    assert_at_most_once_per_interval([moment for _, moment in runs], 1)


def schedule_runs(server) -> list[tuple[str, float]]:
    runs = []
    for line in server.log(last=10**7).splitlines():
        if not line.startswith("{"):
            continue
        record = json.loads(line)
        if record["message"].startswith("schedule: running intake.sweep"):
            moment = datetime.fromisoformat(record["time"].replace("Z", "+00:00"))
            runs.append((record["message"].rsplit(" ", 1)[-1], moment.timestamp()))
    return runs
