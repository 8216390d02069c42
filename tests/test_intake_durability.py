"""No event lost, none doubled: concurrent repeats, Redis outages, out-of-order removals."""

from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import func, select

from loyalty_social.delivery.models import Delivery
from loyalty_social.extensions import db
from loyalty_social.intake.models import ActivityEvent
from loyalty_social.rewards.models import Award, LedgerEntry

from .conftest import run_cli
from .helpers import drain, envelope, seed, signed, wait_until
from .services import RedisServer


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_fifty_concurrent_deliveries_of_one_event_store_and_pay_once(
    pg_config, make_app, serve, start_worker
):
    app = make_app(pg_config)
    seeded = seed(app)
    server = serve(pg_config, workers=2, threads=16)
    start_worker(pg_config)
    raw, headers = signed(seeded["secret"], envelope(member_id="M-50"))

    def deliver(_):
        return requests.post(
            f"{server.url}/webhooks/backend", data=raw, headers=headers, timeout=30
        )

    with ThreadPoolExecutor(50) as pool:
        responses = list(pool.map(deliver, range(50)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(202) == 1 and statuses.count(200) == 49, statuses
    assert len({r.json()["id"] for r in responses}) == 1
    assert count(app, ActivityEvent) == 1
    wait_until(lambda: count(app, ActivityEvent, ActivityEvent.status == "processed") == 1)
    assert count(app, Award) == 1
    balance = requests.get(
        f"{server.url}/api/v1/members/M-50/balance", headers=seeded["auth"], timeout=10
    )
    assert balance.json()["points"] == 10


def test_redis_outage_loses_nothing_sweeper_recovers_every_event_once(
    pg_database_url, make_app, serve
):
    from .conftest import Worker, _truncate_all, make_config

    redis = RedisServer().start()
    config = make_config(pg_database_url, redis.url)
    try:
        app = make_app(config)
        seeded = seed(app)
        server = serve(config, workers=2, threads=8)
        redis.stop()  # Redis goes down; intake must still accept durably

        def deliver(n):
            raw, headers = signed(seeded["secret"], envelope(member_id=f"M-{n % 10}"))
            return requests.post(
                f"{server.url}/webhooks/backend", data=raw, headers=headers, timeout=30
            )

        with ThreadPoolExecutor(10) as pool:
            statuses = [r.status_code for r in pool.map(deliver, range(100))]
        assert statuses == [202] * 100
        assert count(app, ActivityEvent, ActivityEvent.status == "pending") == 100

        redis.start()
        swept = run_cli(config, "sweep", "--older-than", "0")
        assert swept.returncode == 0, swept.stderr
        assert "re-enqueued 100 pending events" in swept.stdout
        worker = Worker(config, "--burst")
        assert worker.process.wait(120) == 0
        assert count(app, ActivityEvent, ActivityEvent.status == "processed") == 100
        assert count(app, Award) == 100
        assert count(app, LedgerEntry) == 100
        # a second sweep and worker pass changes nothing
        assert "re-enqueued 0" in run_cli(config, "sweep", "--older-than", "0").stdout
        assert count(app, Award) == 100
    finally:
        redis.cleanup()
        _truncate_all(pg_database_url)


def test_review_removed_before_published_ends_with_no_points(client, app):
    seeded = seed(app, rules=(("review.published", 50),))
    review = {
        "review_id": "r-1",
        "platform": "trustreviews",
        "sku": "S1",
        "rating": 5,
        "text_length": 200,
    }
    removed = envelope(
        "review.removed", member_id="M-R", data={"review_id": "r-1", "platform": "trustreviews"}
    )
    raw, headers = signed(seeded["secret"], removed)
    assert client.post("/webhooks/backend", data=raw, headers=headers).status_code == 202
    drain(app)
    raw, headers = signed(
        seeded["secret"], envelope("review.published", member_id="M-R", data=review)
    )
    published = client.post("/webhooks/backend", data=raw, headers=headers)
    assert published.status_code == 202
    drain(app)
    assert client.get("/api/v1/members/M-R/balance", headers=seeded["auth"]).json["points"] == 0
    with app.app_context():
        event = db.session.get(ActivityEvent, published.json["id"])
        assert event.status == "processed"
        assert "removed" in event.outcome["skipped"][0]["reason"]


def test_review_removed_after_published_claws_the_points_back(client, app):
    seeded = seed(app, rules=(("review.published", 50),))
    review = {
        "review_id": "r-2",
        "platform": "trustreviews",
        "sku": "S1",
        "rating": 4,
        "text_length": 90,
    }
    raw, headers = signed(
        seeded["secret"], envelope("review.published", member_id="M-C", data=review)
    )
    client.post("/webhooks/backend", data=raw, headers=headers)
    drain(app)
    assert client.get("/api/v1/members/M-C/balance", headers=seeded["auth"]).json["points"] == 50
    removed = envelope(
        "review.removed", member_id="M-C", data={"review_id": "r-2", "platform": "trustreviews"}
    )
    raw, headers = signed(seeded["secret"], removed)
    client.post("/webhooks/backend", data=raw, headers=headers)
    drain(app)
    assert client.get("/api/v1/members/M-C/balance", headers=seeded["auth"]).json["points"] == 0
    ledger = client.get("/api/v1/members/M-C/ledger", headers=seeded["auth"]).json["items"]
    assert [(e["kind"], e["points"]) for e in ledger] == [("reversal", -50), ("award", 50)]


def test_a_repeated_removal_is_a_quiet_no_op(client, app):
    """The sender repeats review.removed with a new webhook id (once soon after, in the same
    batch, and once later): the points come back once, one debit goes to the backend, and
    every removal is processed, not failed."""
    seeded = seed(app, rules=(("review.published", 50),))
    review = {"review_id": "r-3", "platform": "trustreviews", "sku": "S1", "rating": 5}
    removal = envelope("review.removed", member_id="M-2R", data={**review, "reason": "spam"})
    del removal["data"]["sku"], removal["data"]["rating"]

    def post(body) -> str:
        raw, headers = signed(seeded["secret"], body)
        response = client.post("/webhooks/backend", data=raw, headers=headers)
        assert response.status_code == 202, response.text
        return response.json["id"]

    post(envelope("review.published", member_id="M-2R", data={**review, "text_length": 90}))
    drain(app)
    removals = [post(removal), post(removal)]
    drain(app)
    removals.append(post(removal))
    drain(app)
    with app.app_context():
        events = [db.session.get(ActivityEvent, event_id) for event_id in removals]
        assert [(e.status, e.error) for e in events] == [("processed", None)] * 3
        assert sorted(len(e.outcome["reversed"]) for e in events) == [0, 0, 1]
        debits = db.session.scalars(
            select(Delivery.idempotency_key).where(Delivery.kind == "reversal")
        ).all()
        assert len(debits) == 1 and debits[0].endswith(".reversal")
    assert count(app, LedgerEntry, LedgerEntry.kind == "reversal") == 1
    assert client.get("/api/v1/members/M-2R/balance", headers=seeded["auth"]).json["points"] == 0


def test_operator_lists_inspects_and_replays_events(client, app, stack_config):
    seeded = seed(app)
    raw, headers = signed(seeded["secret"], envelope(member_id="M-O"))
    event_id = client.post("/webhooks/backend", data=raw, headers=headers).json["id"]
    if stack_config["REDIS_URL"]:  # no worker runs yet: the event waits, listed as pending
        pending = client.get("/api/v1/events?status=pending", headers=seeded["auth"]).json
        assert [e["id"] for e in pending["items"]] == [event_id]
    drain(app)
    assert client.get("/api/v1/events?status=pending", headers=seeded["auth"]).json["items"] == []
    processed = client.get("/api/v1/events?status=processed", headers=seeded["auth"]).json
    assert [e["id"] for e in processed["items"]] == [event_id]
    event = client.get(f"/api/v1/events/{event_id}", headers=seeded["auth"]).json
    assert event["status"] == "processed" and event["outcome"]["awards"][0]["points"] == 10

    replayed = client.post(f"/api/v1/events/{event_id}/replay", headers=seeded["auth"])
    assert replayed.status_code == 202
    drain(app)
    result = run_cli(stack_config, "event", "replay", event_id)
    assert result.returncode == 0, result.stderr
    drain(app)
    event = client.get(f"/api/v1/events/{event_id}", headers=seeded["auth"]).json
    assert event["status"] == "processed" and event["attempts"] == 3
    assert event["outcome"]["skipped"] == [
        {"rule_id": seeded["rule_ids"][0], "reason": "already awarded"}
    ]
    assert client.get("/api/v1/members/M-O/balance", headers=seeded["auth"]).json["points"] == 10
    missing = client.post("/api/v1/events/evt_nope/replay", headers=seeded["auth"])
    assert missing.status_code == 404


def test_worker_killed_mid_batch_loses_nothing_and_pays_once(pg_config, make_app, start_worker):
    """SIGKILL a worker while it holds a batch (blocked on a member lock we hold), then recover."""
    import signal

    import sqlalchemy as sa

    from .conftest import Worker

    app = make_app(pg_config)
    seeded = seed(app)
    client = app.test_client()
    for n in range(20):
        raw, headers = signed(seeded["secret"], envelope(member_id="M-K" if n == 0 else f"M-{n}"))
        assert client.post("/webhooks/backend", data=raw, headers=headers).status_code == 202
    from loyalty_social.intake.committer import pipeline

    assert pipeline(app).dispatcher.flush(30)

    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    blocker = engine.connect()
    try:
        blocker.exec_driver_sql(
            "INSERT INTO member (id, attributes, created_at, updated_at) "
            "VALUES ('M-K', '{}', now(), now())"
        )
        blocker.commit()
        blocker.exec_driver_sql("SELECT id FROM member WHERE id = 'M-K' FOR UPDATE")
        worker = start_worker(pg_config)

        def worker_waits_on_our_lock():
            with engine.connect() as probe:
                return probe.exec_driver_sql(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                ).scalar()

        wait_until(worker_waits_on_our_lock, timeout=60)
        worker.process.send_signal(signal.SIGKILL)
        worker.process.wait(10)
    finally:
        blocker.rollback()
        blocker.close()
        engine.dispose()

    assert count(app, ActivityEvent, ActivityEvent.status == "pending") == 20
    assert count(app, Award) == 0
    # Only the killed job's events are re-enqueued; those still waiting in the queue are not.
    from loyalty_social.queue import rq_queue

    jobs = rq_queue(app, "events").get_jobs()
    waiting = {i for job in jobs if job.func_name.endswith("process_events") for i in job.args[0]}
    swept = run_cli(pg_config, "sweep", "--older-than", "0")
    assert f"re-enqueued {20 - len(waiting)} pending events" in swept.stdout, swept.stderr
    recovery = Worker(pg_config, "--burst")
    assert recovery.process.wait(120) == 0
    assert count(app, ActivityEvent, ActivityEvent.status == "processed") == 20
    assert count(app, Award) == 20
    assert client.get("/api/v1/members/M-K/balance", headers=seeded["auth"]).json["points"] == 10
