"""The outbox through the real pipeline: webhooks in, awards and their deliveries out."""

from __future__ import annotations

import pytest

from loyalty_social.delivery import outbox
from loyalty_social.queue import rq_queue

from ..conftest import run_cli
from ..helpers import seed, wait_until
from .conftest import http_config
from .support import award_keys, post, review, rows, shares, start_delivering, wait_for


def test_ledger_default_records_each_award_delivered_in_its_transaction(stack_config, delivery_app):
    app = delivery_app(stack_config)
    seeded = seed(app)
    client = app.test_client()
    post(client, seeded["secret"], *shares(3))
    from ..helpers import drain

    drain(app)
    found = rows(app)
    assert {(r.kind, r.status, r.target) for r in found} == {("award", "delivered", "backend")}
    assert len(found) == 3 and all(r.award_id == r.idempotency_key for r in found)
    listed = client.get("/api/v1/deliveries?status=delivered", headers=seeded["auth"]).json
    assert {item["id"] for item in listed["items"]} == {r.id for r in found}


def test_a_reversal_is_never_sent_before_its_award(
    stack_config, delivery_app, standin, start_worker
):
    backend = standin()
    backend.answer = (503, {"detail": "maintenance"})
    config = http_config(stack_config, backend.url)
    app = delivery_app(config)
    seeded = seed(app, rules=(("review.published", 25),))
    start_delivering(config, start_worker)
    client = app.test_client()
    post(client, seeded["secret"], review("M-1", "rv-1"))
    # (A removal that arrives first cancels the award instead: let evaluation see them in order.)
    (award,) = wait_until(lambda: award_keys(app))
    post(client, seeded["secret"], review("M-1", "rv-1", removed=True))
    wait_until(lambda: len(rows(app, kind="reversal")) == 1)
    wait_until(lambda: backend.calls[award] >= 3)  # the credit keeps failing, and retrying
    assert backend.calls[f"{award}.reversal"] == 0  # ... and the debit waits for it

    backend.answer = None
    wait_for(app, {"delivered": 2})
    assert backend.order == [award, f"{award}.reversal"]
    assert backend.points["M-1"] == 0
    (reversal,) = rows(app, kind="reversal")
    assert reversal.after_id == rows(app, kind="award")[0].id


def test_a_refusal_fails_for_good_with_the_backends_message_until_retried(
    stack_config, delivery_app, standin, start_worker
):
    backend = standin()
    backend.reject = {"M-9"}
    config = http_config(stack_config, backend.url)
    app = delivery_app(config)
    seeded = seed(app)
    start_delivering(config, start_worker)
    client = app.test_client()
    post(client, seeded["secret"], *shares(1, prefix="M-9"))  # member "M-9-0"
    backend.reject = {"M-9-0"}
    wait_for(app, {"failed": 1})
    (row,) = rows(app)
    assert row.last_status_code == 422 and row.last_error == "422: member M-9-0 is closed"
    assert row.attempts == 1  # no retries of a permanent refusal

    listed = run_cli(config, "delivery", "list", "--failed")
    assert listed.returncode == 0, listed.stderr
    assert row.id in listed.stdout and "member M-9-0 is closed" in listed.stdout

    detail = client.get(f"/api/v1/deliveries/{row.id}", headers=seeded["auth"]).json
    assert [(a["outcome"], a["status_code"]) for a in detail["history"]] == [("failed", 422)]
    assert detail["payload"]["member_id"] == "M-9-0"

    backend.reject = set()
    retried = client.post(f"/api/v1/deliveries/{row.id}/retry", headers=seeded["auth"])
    assert retried.status_code == 202 and retried.json["status"] == "pending"
    wait_for(app, {"delivered": 1})
    assert backend.applied[row.idempotency_key] == 1

    backend.reject = {"M-9-0"}  # refused again: and retried again, this time all at once
    post(client, seeded["secret"], *shares(1, prefix="M-9"))
    wait_for(app, {"delivered": 1, "failed": 1})
    backend.reject = set()
    everything = client.post("/api/v1/deliveries/failed/retry", headers=seeded["auth"])
    assert everything.status_code == 202 and everything.json == {"retried": 1}
    wait_for(app, {"delivered": 2})

    again = client.post(f"/api/v1/deliveries/{row.id}/retry", headers=seeded["auth"])
    assert again.status_code == 409
    assert again.json["type"].endswith("/delivery-not-retryable")
    missing = client.post("/api/v1/deliveries/dlv_nope/retry", headers=seeded["auth"])
    assert missing.status_code == 404


@pytest.mark.postgres
def test_a_crash_between_commit_and_enqueue_loses_nothing(
    pg_config, delivery_app, standin, start_worker
):
    """Awards commit, their delivery jobs vanish (the process died before enqueueing, or Redis
    lost them): the sweeper finds the rows and each award reaches the backend once."""
    backend = standin()
    config = http_config(pg_config, backend.url)
    app = delivery_app(config)
    seeded = seed(app)
    post(app.test_client(), seeded["secret"], *shares(30))

    from loyalty_social.intake.committer import pipeline

    assert pipeline(app).dispatcher.flush(30)
    with app.app_context():
        queue = rq_queue(app, "events")
        jobs = queue.jobs
        queue.empty()
        for job in jobs:  # evaluate here, as a worker would ...
            job.func(*job.args)
        deliveries = rq_queue(app, "delivery")
        assert deliveries.count > 0
        deliveries.empty()  # ... and lose every delivery job it enqueued
    assert dict(__import__("collections").Counter(r.status for r in rows(app))) == {"pending": 30}
    assert not backend.calls

    start_worker(config)
    wait_for(app, {"delivered": 30})
    assert set(backend.applied.values()) == {1} and backend.applied_keys() == award_keys(app)


def test_offers_go_through_the_outbox_in_order(sqlite_config, delivery_app, standin):
    """The seam the offers feature will call: grant, then redemption, never the other way."""
    backend = standin()
    app = delivery_app(http_config(sqlite_config, backend.url))
    with app.app_context():
        outbox.record_offer_redemption("ogr_1", "M-1", "off_1")  # no grant yet: no order
        outbox.record_offer_grant("ogr_2", "M-1", "off_1", valid_until="2027-01-01")
        outbox.record_offer_redemption("ogr_2", "M-1", "off_1")
        from loyalty_social.extensions import db

        db.session.commit()
    wait_for(app, {"delivered": 3})
    assert backend.order.index("ogr_2") < backend.order.index("ogr_2.redeem")
    assert backend.paths["ogr_2"] == "/offers/grant"
    assert backend.bodies["ogr_2"]["valid_until"] == "2027-01-01"
