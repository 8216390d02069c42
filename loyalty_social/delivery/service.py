"""Delivering the outbox: a job claims the due rows of its batch, calls, records, retries.

A job claims (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite serialises writers) by pushing
``next_attempt_at`` a lease ahead, commits, makes the calls without holding a transaction, then
records each attempt. A worker killed mid-batch leaves its rows leased; when the lease ends they
are due again and the sweeper re-sends them. The other side deduplicates by idempotency key /
webhook-id, so "at least once" sends apply exactly once.

Writing rows is ``outbox``; handing them to jobs after the commit is ``handoff``; subscriptions
are ``subscriptions``; listing and manual retry are ``inspection``.
"""

from __future__ import annotations

import json
import logging
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from prometheus_client import Counter
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import aliased

from .. import crypto
from ..extensions import db
from ..ids import new_id
from ..privacy import erased_among
from ..timeutil import utcnow
from .adapters import (
    CREDIT,
    DELIVERED,
    FAILED,
    RETRY,
    BackendAdapter,
    HttpPoster,
    Outcome,
    adapter,
    signature_headers,
)
from .cancellation import CONSENT_WITHDRAWN, enqueue_after_cancel, without_consent
from .handoff import kick, kick_after_commit
from .models import BACKEND, CANCELLED, Delivery, DeliveryAttempt, Subscription
from .outbox import blocked_error, delivered_payload, publish
from .personal_data import ERASED, REDACTED

log = logging.getLogger(__name__)
DELIVERIES = Counter(
    "loyalty_social_deliveries_total", "Delivery attempts, by kind and outcome", ["kind", "outcome"]
)


@dataclass(frozen=True)
class Task:
    """What one call needs, read while claiming, so no transaction stays open during calls."""

    id: str
    target: str
    kind: str
    key: str
    payload: dict
    url: str | None = None
    secret: str | None = None


def _poster() -> HttpPoster:
    found = current_app.extensions.get("loyalty_social.delivery.poster")
    if found is None:
        config = current_app.config
        found = HttpPoster(
            config["BACKEND_CONNECT_TIMEOUT_SECONDS"],
            config["BACKEND_READ_TIMEOUT_SECONDS"],
            config["ALLOW_PRIVATE_TARGETS"],
        )
        current_app.extensions["loyalty_social.delivery.poster"] = found
    return found


def deliver(delivery_ids: list[str]) -> int:
    """One delivery pass over a batch: claim what is due, call, record. Returns calls made."""
    tasks = _claim(delivery_ids)
    if not tasks:
        return 0
    concurrency = max(1, min(current_app.config["DELIVERY_CONCURRENCY"], len(tasks)))
    backend, poster = adapter(), _poster()
    if concurrency == 1:
        results = [_send(task, backend, poster) for task in tasks]
    else:
        with ThreadPoolExecutor(concurrency, thread_name_prefix="delivery") as pool:
            results = list(pool.map(lambda task: _send(task, backend, poster), tasks))
    _record(tasks, results)
    return len(tasks)


def _ready():
    """The row has no predecessor, or its predecessor is delivered."""
    before = aliased(Delivery)
    return or_(
        Delivery.after_id.is_(None),
        exists().where(before.id == Delivery.after_id, before.status == "delivered"),
    )


def _claim(delivery_ids: list[str]) -> list[Task]:
    now = utcnow()
    rows = list(
        db.session.scalars(
            select(Delivery)
            .where(
                Delivery.id.in_(delivery_ids),
                Delivery.status == "pending",
                Delivery.next_attempt_at <= now,
                _ready(),
            )
            .order_by(Delivery.id)
            .with_for_update(skip_locked=True, of=Delivery)
        )
    )
    if not rows:
        db.session.rollback()
        return []
    subscriptions = {
        s.id: s
        for s in db.session.scalars(
            select(Subscription).where(Subscription.id.in_({r.target for r in rows}))
        )
    }
    lease_end = now + timedelta(seconds=current_app.config["DELIVERY_LEASE_SECONDS"])
    erased = erased_among({row.member_id for row in rows if row.member_id})
    unconsented = without_consent(rows)
    tasks, disabled = [], []
    for row in rows:
        if row.member_id in erased:  # written in a race with the erasure: never sent
            row.status, row.last_error, row.payload = CANCELLED, ERASED, REDACTED
            disabled.append(row)
            continue
        if row.id in unconsented:  # consent withdrawn while it waited (e.g. for a retry)
            row.status, row.last_error = CANCELLED, CONSENT_WITHDRAWN
            disabled.append(row)
            continue
        if row.target == BACKEND:
            tasks.append(Task(row.id, row.target, row.kind, row.idempotency_key, row.payload))
        else:
            subscription = subscriptions.get(row.target)
            if subscription is None or not subscription.enabled:
                row.status, row.last_error = "failed", "the subscription is disabled"
                disabled.append(row)
                continue
            tasks.append(
                Task(
                    row.id,
                    row.target,
                    row.kind,
                    row.idempotency_key,
                    row.payload,
                    subscription.url,
                    crypto.decrypt(subscription.secret_encrypted),
                )
            )
        row.next_attempt_at = row.claimed_until = lease_end
    _give_up_dependents(disabled)
    db.session.commit()
    withdrawn = sorted({r.member_id for r in rows if r.id in unconsented})
    if withdrawn:  # rewards takes back what will now never reach the backend
        enqueue_after_cancel(withdrawn)
    return tasks


def _send(task: Task, backend: BackendAdapter, poster: HttpPoster) -> tuple[Outcome, int]:
    started = time.monotonic()
    try:
        if task.target == BACKEND:
            outcome = backend.call(task.kind, task.key, task.payload)
        else:
            body = json.dumps(task.payload, separators=(",", ":")).encode()
            outcome = poster.post(task.url, body, signature_headers(task.secret, task.key, body))
    except Exception as error:  # an adapter bug must not lose the row: retry, and say why
        log.exception("delivery %s raised", task.id)
        outcome = Outcome(RETRY, None, f"{type(error).__name__}: {error}"[:2000])
    return outcome, int((time.monotonic() - started) * 1000)


def _record(tasks: list[Task], results: list[tuple[Outcome, int]]) -> None:
    now = utcnow()
    rows = {
        row.id: row
        for row in db.session.scalars(
            select(Delivery)
            .where(Delivery.id.in_([t.id for t in tasks]))
            .order_by(Delivery.id)
            .with_for_update()
        )
    }
    delivered, given_up = [], []
    for task, (outcome, duration_ms) in zip(tasks, results, strict=True):
        DELIVERIES.labels(task.kind, outcome.result).inc()
        db.session.add(
            DeliveryAttempt(
                id=new_id("att"),
                delivery_id=task.id,
                outcome=outcome.result,
                status_code=outcome.status_code,
                error=outcome.error,
                duration_ms=duration_ms,
                attempted_at=now,
            )
        )
        row = rows.get(task.id)
        if row is None or row.status != "pending":  # a late job after another finished it
            continue
        row.claimed_until = None
        row.attempts += 1
        row.last_status_code = outcome.status_code
        row.last_error = outcome.error
        if outcome.result == DELIVERED:
            row.status, row.delivered_at = "delivered", now
            delivered.append(row)
        elif outcome.result == FAILED or now >= row.give_up_at:
            row.status = "failed" if outcome.result == FAILED else "dead"
            given_up.append(row)
        else:
            row.next_attempt_at = min(now + backoff(row.attempts), row.give_up_at)
    for row in delivered:
        if row.kind == CREDIT:
            publish("award.delivered", delivered_payload(row), award_id=row.award_id)
    _wake_dependents([row.id for row in delivered], now)
    _give_up_dependents(given_up)
    db.session.commit()


def backoff(attempts: int) -> timedelta:
    """Exponential backoff with full jitter: a uniform wait up to base x 2^(attempts-1), capped."""
    config = current_app.config
    ceiling = min(
        config["DELIVERY_BACKOFF_CAP_SECONDS"],
        config["DELIVERY_BACKOFF_BASE_SECONDS"] * 2 ** min(attempts - 1, 40),
    )
    return timedelta(seconds=random.uniform(0, ceiling))


def _dependents(ids: list[str]) -> list[Delivery]:
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Delivery)
            .where(Delivery.after_id.in_(ids), Delivery.status == "pending")
            .order_by(Delivery.id)
        )
    )


def _wake_dependents(delivered_ids: list[str], now) -> None:
    """Rows that waited for these are due now (e.g. the reversal of a just-credited award)."""
    woken = _dependents(delivered_ids)
    for row in woken:
        row.next_attempt_at = min(row.next_attempt_at, now)
        row.enqueued_at = now
    if woken:
        kick_after_commit([row.id for row in woken])


def _give_up_dependents(rows: list[Delivery]) -> None:
    """What must follow a row that will never be delivered cannot be sent either."""
    while rows:
        by_id = {row.id: row for row in rows}
        followers = _dependents(list(by_id))
        for follower in followers:
            before = by_id[follower.after_id]
            follower.status, follower.last_error = before.status, blocked_error(before)
        rows = followers


# --- The sweeper ---------------------------------------------------------------------------


def due_ids(limit: int, stale_after_seconds: float) -> list[str]:
    """Pending rows that are due and that no job is known to hold: never handed to a job since
    they became due, or handed over longer than ``stale_after_seconds`` ago (the job was lost)."""
    now = utcnow()
    query = (
        select(Delivery.id)
        .where(
            Delivery.status == "pending",
            Delivery.next_attempt_at <= now,
            _ready(),
            or_(
                Delivery.enqueued_at.is_(None),
                Delivery.enqueued_at < Delivery.next_attempt_at,
                Delivery.enqueued_at <= now - timedelta(seconds=stale_after_seconds),
            ),
        )
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def sweep(stale_after_seconds: float | None = None) -> int:
    """Hand due rows (retries, leases of dead workers, lost jobs) to delivery jobs; returns how
    many. Runs on the schedule (``delivery.sweep``); the calls happen in the jobs."""
    config = current_app.config
    stale = config["SWEEP_AFTER_SECONDS"] if stale_after_seconds is None else stale_after_seconds
    size = config["DELIVERY_BATCH_SIZE"]
    total = 0
    while True:
        ids = due_ids(size * 10, stale)
        if not ids:
            db.session.rollback()
            return total
        db.session.execute(
            Delivery.__table__.update()
            .where(Delivery.__table__.c.id.in_(ids))
            .values(enqueued_at=utcnow())
        )
        db.session.commit()
        kick(ids)
        total += len(ids)
        if len(ids) < size * 10:
            return total
