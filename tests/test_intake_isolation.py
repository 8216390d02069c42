"""Acceptance, with real processes: one bad event among 64 concurrent ones never fails the others,
under the production server (granian), on PostgreSQL and on SQLite."""

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from loyalty_social.extensions import db
from loyalty_social.intake.models import ActivityEvent

from .helpers import envelope, seed, signed

NUL_AT = 17
LONG_URL_AT = 40


def body(n: int) -> dict:
    data = {"network": "x", "url": f"https://ex.test/{uuid.uuid4()}"}
    if n == NUL_AT:
        data["campaign"] = "fall\x00sale"  # an extra field we only keep
    if n == LONG_URL_AT:
        data["url"] = "https://shop.example/p/" + "a" * 577  # 600 characters
    return envelope(member_id=f"M-{n % 8}", data=data)


@pytest.mark.parametrize(("stack", "workers"), [("pg", 2), ("sqlite", 1)])
def test_64_concurrent_events_one_unstorable_one_long_url(request, make_app, serve, stack, workers):
    config = request.getfixturevalue(f"{stack}_config")
    app = make_app(config)
    seeded = seed(app)
    server = serve(config, workers=workers, threads=32)
    signed_bodies = [signed(seeded["secret"], body(n)) for n in range(64)]
    assert len(signed_bodies[LONG_URL_AT][0]) > 600

    def deliver(item):
        raw, headers = item
        return requests.post(
            f"{server.url}/webhooks/backend", data=raw, headers=headers, timeout=60
        )

    with ThreadPoolExecutor(64) as pool:
        responses = list(pool.map(deliver, signed_bodies))

    statuses = [r.status_code for r in responses]
    assert statuses[NUL_AT] == 422, server.log()
    problem = responses[NUL_AT].json()
    assert problem["type"].endswith("/validation-failed")
    assert list(problem["errors"]) == ["data"] and list(problem["errors"]["data"]) == ["campaign"]
    # The long URL is valid: stored, its object key bounded to the column.
    others = [s for n, s in enumerate(statuses) if n != NUL_AT]
    assert others == [202] * 63, (statuses, server.log())
    assert not [s for s in statuses if s >= 500]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ActivityEvent)) == 63
        long_event = db.session.get(ActivityEvent, responses[LONG_URL_AT].json()["id"])
        assert len(long_event.data["url"]) == 600 and len(long_event.object_key) == 512
