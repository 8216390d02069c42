"""What an operator relies on, with real processes: readiness when Redis or the database goes
away, request metrics that cannot be flooded with made-up methods, and per-source rate limits
that hold across web processes through Redis."""

from __future__ import annotations

from collections import Counter

import pytest
import requests

from loyalty_social.intake.sources import add_source

from .conftest import make_config
from .helpers import envelope, seed, signed
from .services import RedisServer, free_port


@pytest.mark.postgres
def test_readyz_stays_200_degraded_while_redis_is_down_and_intake_still_stores(pg_config, make_app):
    redis_server = RedisServer().start()  # our own Redis, to stop
    try:
        app = make_app(dict(pg_config, REDIS_URL=redis_server.url))
        seeded = seed(app)
        client = app.test_client()
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json["status"] == "ready"
        redis_server.stop()  # the Redis process is gone
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json["status"] == "degraded"
        assert ready.json["reason"].startswith("redis unreachable")
        assert ready.json["checks"] == {"database": "ok", "redis": ready.json["checks"]["redis"]}
        raw, headers = signed(seeded["secret"], envelope())
        assert client.post("/webhooks/backend", data=raw, headers=headers).status_code == 202
    finally:
        redis_server.cleanup()


def test_readyz_is_503_when_the_database_is_unreachable(make_app):
    port = free_port()  # nothing listens there
    app = make_app(make_config(f"postgresql://postgres@127.0.0.1:{port}/none"))
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 503
    assert ready.mimetype == "application/problem+json"
    assert ready.json["checks"]["database"].startswith("unreachable")
    assert "Retry-After" in ready.headers


def test_request_metrics_label_unknown_methods_as_other(app):
    seeded = seed(app, scopes=("metrics",))
    client = app.test_client()
    for method in ("BREW", "PROPFIND", "X-ANYTHING"):
        client.open("/api/v1/members/M-1/balance", method=method)
        client.open("/webhooks/backend", method=method)
    body = client.get("/metrics", headers=seeded["auth"]).get_data(as_text=True)
    assert 'method="other"' in body
    for invented in ("BREW", "PROPFIND", "X-ANYTHING"):
        assert f'method="{invented}"' not in body


@pytest.mark.postgres
def test_rate_limit_holds_across_web_processes_with_redis(pg_config, make_app, serve):
    app = make_app(pg_config)
    seed(app)
    with app.app_context():  # 5 at once, then one per 100 s
        secret = add_source("chatty", rate_limit=0.05, rate_burst=5)
    servers = [serve(pg_config), serve(pg_config)]  # two processes, as on two hosts
    statuses = Counter()
    for index in range(12):
        raw, headers = signed(secret, envelope())
        answer = requests.post(
            f"{servers[index % 2].url}/webhooks/chatty", data=raw, headers=headers, timeout=10
        )
        statuses[answer.status_code] += 1
        if answer.status_code == 429:
            assert int(answer.headers["Retry-After"]) >= 1
    assert statuses == {202: 5, 429: 7}
