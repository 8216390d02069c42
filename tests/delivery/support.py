"""Helpers of the delivery tests: send activity through the real intake, read outbox state."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from loyalty_social.delivery import models
from loyalty_social.delivery.models import Delivery
from loyalty_social.extensions import db

from ..helpers import envelope, signed, wait_until


def post(client, secret: str, *bodies: dict) -> list[str]:
    """Send signed webhooks through the app; returns the stored event ids."""
    ids = []
    for body in bodies:
        raw, headers = signed(secret, body)
        response = client.post("/webhooks/backend", data=raw, headers=headers)
        assert response.status_code == 202, response.get_data(as_text=True)
        ids.append(response.json["id"])
    return ids


def post_many(app, secret: str, bodies: list[dict], threads: int = 8) -> list[str]:
    """``post`` from several threads (a test client each), as concurrent senders would; intake
    writes concurrent requests with one shared commit, so this is much faster than one by one."""
    chunks = [bodies[i::threads] for i in range(threads)]
    with ThreadPoolExecutor(threads) as pool:
        results = pool.map(lambda chunk: post(app.test_client(), secret, *chunk), chunks)
    return [event_id for ids in results for event_id in ids]


def shares(count: int, prefix: str = "M") -> list[dict]:
    """``count`` social.shared events, spread over a few members."""
    return [envelope(member_id=f"{prefix}-{i % 7}") for i in range(count)]


def review(member_id: str, review_id: str, removed: bool = False) -> dict:
    if removed:
        data = {"review_id": review_id, "platform": "trustreviews", "reason": "spam"}
        return envelope("review.removed", member_id=member_id, data=data)
    data = {
        "review_id": review_id,
        "platform": "trustreviews",
        "sku": "SKU-1",
        "rating": 5,
        "text_length": 300,
    }
    return envelope("review.published", member_id=member_id, data=data, evidence="verified")


def rows(app, **filters) -> list[Delivery]:
    with app.app_context():
        found = list(db.session.scalars(db.select(Delivery).filter_by(**filters)))
        db.session.expunge_all()
        return found


def statuses(app, **filters) -> Counter:
    return Counter(row.status for row in rows(app, **filters))


def wait_for(app, expected: dict, timeout: float = 60, **filters) -> None:
    """Poll the outbox until its statuses are exactly ``expected`` (e.g. {"delivered": 200})."""
    last: list = [None]

    def reached():
        last[0] = dict(statuses(app, **filters))
        return last[0] == expected

    try:
        wait_until(reached, timeout)
    except AssertionError:
        raise AssertionError(f"outbox never reached {expected}: {last[0]}") from None


def award_keys(app) -> set[str]:
    return {row.idempotency_key for row in rows(app, target=models.BACKEND, kind="award")}


def start_delivering(config: dict, start_worker) -> None:
    """Production shape: a real worker process (jobs + schedule). The embedded default needs
    nothing: this process's delivery thread and schedule deliver."""
    if config["REDIS_URL"]:
        start_worker(config)
