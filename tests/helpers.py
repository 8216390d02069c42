"""Test helpers: signing like an integrator would (the reference standardwebhooks library)."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime

from standardwebhooks import Webhook

from loyalty_social.access.service import create_key
from loyalty_social.intake.sources import add_source
from loyalty_social.rules.service import add_rule


def envelope(event_type="social.shared", member_id="M-1", data=None, **extra) -> dict:
    data = data if data is not None else {"network": "x", "url": f"https://ex.test/{uuid.uuid4()}"}
    return {
        "type": event_type,
        "timestamp": "2026-11-20T09:30:00Z",
        "member_id": member_id,
        "data": data,
        **extra,
    }


def signed(secret: str, body, webhook_id: str | None = None, timestamp: float | None = None):
    """(raw body, headers) signed with the standardwebhooks reference library."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    webhook_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    sent = datetime.fromtimestamp(int(timestamp if timestamp is not None else time.time()), UTC)
    signature = Webhook(secret).sign(webhook_id, sent, raw.decode())
    return raw, {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(sent.timestamp())),
        "webhook-signature": signature,
    }


def seed(app, rules=(("social.shared", 10),), scopes=("read", "operator")) -> dict:
    """A source 'backend', the given "type gives N points" rules, and an API key."""
    with app.app_context():
        secret = add_source("backend", max_evidence="verified")
        rule_ids = [add_rule(f"{t}: {p}", t, p) for t, p in rules]
        key = create_key("tests", list(scopes))
    return {"secret": secret, "rule_ids": rule_ids, "auth": {"Authorization": f"Bearer {key}"}}


def drain(app) -> None:
    """Process everything accepted so far: wait for dispatch, then (RQ) run a burst worker."""
    from loyalty_social.intake.committer import pipeline

    assert pipeline(app).dispatcher.flush(30), "dispatcher did not drain"
    if app.config["REDIS_URL"]:
        from rq import SimpleWorker

        from loyalty_social.queue import redis_connection, rq_queues

        with app.app_context():
            SimpleWorker(rq_queues(), connection=redis_connection()).work(burst=True)


def wait_until(predicate, timeout: float = 30, interval: float = 0.05):
    """Poll an observable condition (not a fixed sleep); fail with the last value seen."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last: {value!r})")


def tables_present(tables: set[str]) -> set[str]:
    """Which of ``tables`` exist in the app's database now (inside an app context)."""
    import sqlalchemy as sa

    from loyalty_social.extensions import db

    return set(sa.inspect(db.engine).get_table_names()) & tables


def drift_in(tables: set[str]) -> list:
    """Differences between the migrated schema and the models that touch ``tables``."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from loyalty_social.extensions import db

    def mentions(diff) -> bool:
        if isinstance(diff, list):
            return any(mentions(item) for item in diff)
        for part in diff:
            name = part if isinstance(part, str) else getattr(part, "name", None)
            table = getattr(part, "table", None)
            if name in tables or getattr(table, "name", None) in tables:
                return True
        return False

    with db.engine.connect() as connection:
        drift = compare_metadata(MigrationContext.configure(connection), db.metadata)
    return [diff for diff in drift if mentions(diff)]
