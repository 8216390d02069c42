"""The transactional outbox: written in the caller's transaction, delivered in batches, retried.

Writing: ``record_awards``/``record_reversal``/``record_offer_*``/``publish`` add outbox rows to
the caller's session; the caller's commit makes them durable together with what caused them.
After that commit a session hook hands the new ids to a delivery job (RQ, or the in-process
pump on the embedded default). If the process dies first, the sweeper finds the rows.

Delivering: a job claims the due rows of its batch (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite
serialises writers) by pushing ``next_attempt_at`` a lease ahead, commits, makes the calls
without holding a transaction, then records each attempt. A worker killed mid-batch leaves its
rows leased; when the lease ends they are due again and the sweeper re-sends them. The other
side deduplicates by idempotency key / webhook-id, so "at least once" sends apply exactly once.

Ordering: a row with ``after_id`` is not claimed until that row is delivered (a reversal waits
for its award's credit). If the earlier row fails for good, the later one takes the same status.
"""

from __future__ import annotations

import json
import logging
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, has_app_context
from prometheus_client import Counter
from sqlalchemy import event as sa_event
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import aliased

from .. import crypto
from ..errors import Problem
from ..extensions import db
from ..ids import new_id
from ..intake.signature import generate_secret
from ..sql import in_pipeline, insert_rows, newest_first_page, run_insert
from ..timeutil import isoformat, utcnow
from .adapters import (
    CREDIT,
    DEBIT,
    DELIVERED,
    FAILED,
    OFFER_GRANT,
    OFFER_REDEEM,
    RETRY,
    BackendAdapter,
    HttpPoster,
    Outcome,
    build_adapter,
    signature_headers,
)
from .models import Delivery, DeliveryAttempt, Subscription

log = logging.getLogger(__name__)
BACKEND = "backend"
EVENT = "event"
EVENT_TYPES = (
    "award.created",
    "award.delivered",
    "award.reversed",
    "offer.granted",
    "social.linked",
    "social.unlinked",
    "consent.changed",
)
STATUSES = ("pending", "delivered", "failed", "dead")
GIVEN_UP = ("failed", "dead")
_KICK = "loyalty_social.delivery.kick"  # session.info: ids to hand to a job after commit
DELIVERIES = Counter(
    "loyalty_social_deliveries_total", "Delivery attempts, by kind and outcome", ["kind", "outcome"]
)


# --- Writing the outbox (inside the caller's transaction) --------------------------------


def record_awards(grants) -> None:
    """Queue the backend credit of each new award (and publish ``award.created``), for a
    whole batch in one INSERT.

    ``grants``: the ``rewards.service.Grant`` of each award. Call before the commit that writes
    the awards: both land in one transaction.
    """
    if not grants:
        return
    now = utcnow()
    awarded_at = isoformat(now)
    rows = []
    for grant in grants:
        payload = {
            "award_id": grant.award_id,
            "member_id": grant.member_id,
            "points": grant.points,
            "rule_id": grant.rule_id,
            "rule_version": grant.rule_version,
            "event_id": grant.event_id,
            "object_key": grant.object_key,
            "awarded_at": awarded_at,
        }
        rows.append(_row(BACKEND, CREDIT, grant.award_id, payload, now, award_id=grant.award_id))
    connection = db.session.connection()
    run_insert(connection, insert_rows(connection, Delivery.__table__, list(rows[0])), rows)
    _kick_after_commit([row["id"] for row in rows if row["status"] == "pending"])
    if _subscribers("award.created") or _subscribers("award.delivered"):
        for row in rows:
            publish("award.created", row["payload"], award_id=row["award_id"])
            if row["status"] == "delivered":  # the ledger adapter: our ledger is the record
                delivered = {**row["payload"], "delivered_at": isoformat(row["delivered_at"])}
                publish("award.delivered", delivered, award_id=row["award_id"])


def record_reversal(award_ids: list[str], event_id: str, reason: str) -> list[str]:
    """Queue the backend debit for reversed awards, each ordered after its award's credit."""
    from ..rewards.models import Award  # seam: rewards.service has no read of one award yet

    ids = []
    for award_id in award_ids:
        award = db.session.get(Award, award_id)
        payload = {
            "award_id": award_id,
            "reversal_of": award_id,
            "member_id": award.member_id,
            "points": award.points,
            "event_id": event_id,
            "reason": reason,
            "reversed_at": isoformat(utcnow()),
        }
        credit = _find(BACKEND, award_id)
        row = _add(BACKEND, DEBIT, f"{award_id}.reversal", payload, award_id=award_id, after=credit)
        publish("award.reversed", payload, award_id=award_id)
        ids.append(row.id)
    return ids


def record_offer_grant(grant_id: str, member_id: str, offer_id: str, **details) -> str:
    """Seam for the offers feature: queue "grant this offer" (Idempotency-Key = grant id)."""
    payload = {"grant_id": grant_id, "member_id": member_id, "offer_id": offer_id, **details}
    row = _add(BACKEND, OFFER_GRANT, grant_id, payload)
    publish("offer.granted", payload)
    return row.id


def record_offer_redemption(grant_id: str, member_id: str, offer_id: str, **details) -> str:
    """Seam for the offers feature: queue "mark redeemed", never before the grant itself."""
    payload = {"grant_id": grant_id, "member_id": member_id, "offer_id": offer_id, **details}
    row = _add(BACKEND, OFFER_REDEEM, f"{grant_id}.redeem", payload, after=_find(BACKEND, grant_id))
    return row.id


def publish(event_type: str, data: dict, *, award_id: str | None = None) -> str | None:
    """Queue a signed outbound event to every subscriber of ``event_type``, in the caller's
    transaction; returns its webhook-id (shared by all subscribers), None if nobody subscribes.

    Events about one award reach each subscriber in order: after that award's ``award.created``.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown outbound event type {event_type!r}")
    targets = _subscribers(event_type)
    if not targets:
        return None
    message_id = new_id("msg")
    body = {"type": event_type, "timestamp": isoformat(utcnow()), "data": data}
    for target in targets:
        after = None
        if award_id and event_type != "award.created":
            after = _find(target, award_id, "award.created")
        _add(target, EVENT, message_id, body, award_id=award_id, event_type=event_type, after=after)
    return message_id


def _find(target: str, award_or_key: str, event_type: str | None = None) -> Delivery | None:
    """The earlier row a new one must wait for (its award's credit, the award.created event)."""
    query = select(Delivery).where(Delivery.target == target)
    if event_type is None:
        query = query.where(Delivery.idempotency_key == award_or_key)
    else:
        query = query.where(Delivery.award_id == award_or_key, Delivery.event_type == event_type)
    return db.session.scalars(query.limit(1)).first()


def _row(target, kind, key, payload, now, *, award_id=None, event_type=None, after=None) -> dict:
    """One outbox row: delivered at once by a local adapter, blocked with the row it must
    follow when that one was given up on, else pending."""
    status, delivered_at, error = "pending", None, None
    if target == BACKEND and adapter().local:
        status, delivered_at = "delivered", now
    elif after is not None and after.status in GIVEN_UP:
        status, error = after.status, _blocked_error(after)
    return {
        "id": new_id("dlv"),
        "target": target,
        "kind": kind,
        "idempotency_key": key,
        "event_type": event_type,
        "award_id": award_id,
        "payload": payload,
        "after_id": after.id if after is not None else None,
        "status": status,
        "attempts": 0,
        "next_attempt_at": now,
        "give_up_at": now + timedelta(seconds=current_app.config["DELIVERY_RETRY_HORIZON_SECONDS"]),
        "enqueued_at": now,  # handed to a job right after the commit
        "created_at": now,
        "delivered_at": delivered_at,
        "last_error": error,
    }


def _add(target, kind, key, payload, *, award_id=None, event_type=None, after=None) -> Delivery:
    row = Delivery(
        **_row(
            target,
            kind,
            key,
            payload,
            utcnow(),
            award_id=award_id,
            event_type=event_type,
            after=after,
        )
    )
    db.session.add(row)
    if row.status == "pending":
        _kick_after_commit([row.id])
    return row


def _delivered_payload(row: Delivery) -> dict:
    return {**row.payload, "delivered_at": isoformat(row.delivered_at)}


def _blocked_error(before: Delivery) -> str:
    return f"not sent: {before.id}, which must be delivered first, is {before.status}"


# --- Handing rows to jobs ------------------------------------------------------------------


def _kick_after_commit(ids: list[str]) -> None:
    db.session.info.setdefault(_KICK, []).extend(ids)


def _after_commit(session) -> None:
    ids = session.info.pop(_KICK, None)
    if ids and has_app_context():
        kick(ids)


def _after_rollback(session) -> None:
    session.info.pop(_KICK, None)


def install_session_hooks() -> None:
    """Kick delivery for rows a transaction wrote, once it commits (never before)."""
    if not sa_event.contains(db.session, "after_commit", _after_commit):
        sa_event.listen(db.session, "after_commit", _after_commit)
        sa_event.listen(db.session, "after_rollback", _after_rollback)


def kick(ids: list[str]) -> None:
    """Start delivering these rows now: RQ jobs of a batch each, or the in-process pump.

    Never raises: a row a job never sees is found by the sweeper.
    """
    app = current_app._get_current_object()
    if not app.config["REDIS_URL"]:
        from .pump import pump

        pump(app).notify(ids)
        return
    from ..queue import enqueue

    size = app.config["DELIVERY_BATCH_SIZE"]
    for start in range(0, len(ids), size):
        try:
            enqueue("delivery.deliver", ids[start : start + size])
        except Exception:
            log.warning("enqueueing %d deliveries failed; the sweeper will send them", len(ids))
            return


# --- Delivering ------------------------------------------------------------------------------


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


def adapter() -> BackendAdapter:
    """This app's backend adapter, built once from the settings."""
    found = current_app.extensions.get("loyalty_social.delivery.adapter")
    if found is None:
        found = build_adapter(current_app.config)
        current_app.extensions["loyalty_social.delivery.adapter"] = found
    return found


def _poster() -> HttpPoster:
    found = current_app.extensions.get("loyalty_social.delivery.poster")
    if found is None:
        config = current_app.config
        found = HttpPoster(
            config["BACKEND_CONNECT_TIMEOUT_SECONDS"], config["BACKEND_READ_TIMEOUT_SECONDS"]
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
    tasks, disabled = [], []
    for row in rows:
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
        row.next_attempt_at = lease_end
    _give_up_dependents(disabled)
    db.session.commit()
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
            publish("award.delivered", _delivered_payload(row), award_id=row.award_id)
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
        _kick_after_commit([row.id for row in woken])


def _give_up_dependents(rows: list[Delivery]) -> None:
    """What must follow a row that will never be delivered cannot be sent either."""
    while rows:
        by_id = {row.id: row for row in rows}
        followers = _dependents(list(by_id))
        for follower in followers:
            before = by_id[follower.after_id]
            follower.status, follower.last_error = before.status, _blocked_error(before)
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
    """Hand due rows (retries, leases of dead workers, lost jobs) to delivery; returns how many.

    With Redis: enqueue jobs of a batch each. In-process: deliver them here, now.
    """
    config = current_app.config
    stale = config["SWEEP_AFTER_SECONDS"] if stale_after_seconds is None else stale_after_seconds
    size = config["DELIVERY_BATCH_SIZE"]
    total = 0
    while True:
        ids = due_ids(size * 10, stale)
        if not ids:
            db.session.rollback()
            return total
        now = utcnow()
        db.session.execute(
            Delivery.__table__.update()
            .where(Delivery.__table__.c.id.in_(ids))
            .values(enqueued_at=now)
        )
        db.session.commit()
        if config["REDIS_URL"]:
            kick(ids)
            total += len(ids)
        else:
            sent = sum(deliver(ids[i : i + size]) for i in range(0, len(ids), size))
            total += sent
            if not sent:
                return total
        if len(ids) < size * 10:
            return total


# --- Inspection and manual retry ---------------------------------------------------------


def list_deliveries(
    status=None, failed=False, target=None, kind=None, award_id=None, after=None, limit=50
) -> tuple[list[Delivery], str | None]:
    """Newest first, keyset-paginated by id; ``failed`` means failed or dead-lettered."""
    filters = {
        Delivery.status: status,
        Delivery.target: target,
        Delivery.kind: kind,
        Delivery.award_id: award_id,
    }
    conditions = [Delivery.status.in_(GIVEN_UP)] if failed else []
    return newest_first_page(Delivery, filters, after, limit, *conditions)


def get_delivery(delivery_id: str) -> Delivery:
    row = db.session.get(Delivery, delivery_id)
    if row is None:
        raise Problem("not-found", f"No delivery {delivery_id!r}.")
    return row


def attempts_of(delivery_id: str) -> list[DeliveryAttempt]:
    return list(
        db.session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.delivery_id == delivery_id)
            .order_by(DeliveryAttempt.id)
        )
    )


def retry(delivery_id: str) -> Delivery:
    """Send a failed or dead-lettered row again, with a fresh horizon (and what waited on it)."""
    row = db.session.get(Delivery, delivery_id, with_for_update=True)
    if row is None:
        raise Problem("not-found", f"No delivery {delivery_id!r}.")
    if row.status not in GIVEN_UP:
        raise Problem(
            "delivery-not-retryable", f"Delivery {delivery_id} is {row.status}; nothing to retry."
        )
    # Waiting on a row that gave up too: that one goes first, and brings this one back with it.
    first = row
    while first.after_id is not None:
        before = db.session.get(Delivery, first.after_id, with_for_update=True)
        if before.status not in GIVEN_UP:
            break
        first = before
    _reopen([first])
    db.session.commit()
    return row


def retry_all() -> int:
    """Send every failed and dead-lettered row again; returns how many."""
    total = 0
    while True:
        rows = list(
            db.session.scalars(
                select(Delivery)
                .where(Delivery.status.in_(GIVEN_UP))
                .order_by(Delivery.id)
                .limit(1000)
                .with_for_update()
            )
        )
        if not rows:
            db.session.rollback()
            return total
        total += _reopen(rows)
        db.session.commit()


def _reopen(rows: list[Delivery]) -> int:
    now = utcnow()
    horizon = timedelta(seconds=current_app.config["DELIVERY_RETRY_HORIZON_SECONDS"])
    count = 0
    while rows:
        for row in rows:
            row.status, row.attempts = "pending", 0
            row.next_attempt_at, row.give_up_at, row.enqueued_at = now, now + horizon, now
        _kick_after_commit([row.id for row in rows])
        count += len(rows)
        # Rows that gave up because these did come back with them.
        rows = list(
            db.session.scalars(
                select(Delivery).where(
                    Delivery.after_id.in_([r.id for r in rows]), Delivery.status.in_(GIVEN_UP)
                )
            )
        )
    return count


def counts_by_status() -> dict[str, int]:
    rows = db.session.execute(select(Delivery.status, func.count()).group_by(Delivery.status))
    return {status: count for status, count in rows}


# --- Subscriptions -------------------------------------------------------------------------


def add_subscription(
    url: str, event_types: list[str], description: str | None = None
) -> tuple[Subscription, str]:
    """Register an endpoint; returns it and its ``whsec_`` secret (shown once, kept encrypted)."""
    unknown = sorted(set(event_types) - set(EVENT_TYPES))
    if unknown or not event_types:
        raise Problem(
            "validation-failed",
            f"Unknown event types: {', '.join(unknown) or '(none given)'}.",
            known_types=list(EVENT_TYPES),
        )
    secret = generate_secret()
    subscription = Subscription(
        id=new_id("sub"),
        url=url,
        event_types=sorted(set(event_types)),
        secret_encrypted=crypto.encrypt(secret),
        description=description,
        enabled=True,
        created_at=utcnow(),
    )
    db.session.add(subscription)
    db.session.commit()
    _forget_subscribers()
    return subscription, secret


def list_subscriptions() -> list[Subscription]:
    return list(db.session.scalars(select(Subscription).order_by(Subscription.id)))


def get_subscription(subscription_id: str) -> Subscription:
    found = db.session.get(Subscription, subscription_id)
    if found is None:
        raise Problem("not-found", f"No subscription {subscription_id!r}.")
    return found


def disable_subscription(subscription_id: str) -> Subscription:
    """Stop sending to it (its past deliveries stay inspectable; pending ones fail)."""
    found = get_subscription(subscription_id)
    found.enabled = False
    db.session.commit()
    _forget_subscribers()
    return found


def award_events_published() -> bool:
    """Does recording an award publish events (is anyone subscribed to them)?"""
    return bool(_subscribers("award.created") or _subscribers("award.delivered"))


def _subscribers(event_type: str) -> list[str]:
    """Ids of enabled subscriptions to ``event_type``, from a short-lived per-process cache
    (publishing sits on the evaluation hot path). Not refreshed inside a write pipeline,
    where nothing may be read: the answer is then at most one batch older."""
    cache = current_app.extensions.get("loyalty_social.delivery.subscribers")
    ttl = current_app.config["SUBSCRIPTION_CACHE_SECONDS"]
    expired = cache is None or time.monotonic() - cache[0] >= ttl
    if expired and (cache is None or not in_pipeline(db.session.connection())):
        by_type: dict[str, list[str]] = {}
        rows = db.session.execute(
            select(Subscription.id, Subscription.event_types).where(Subscription.enabled)
        )
        for subscription_id, types in rows:
            for name in types:
                by_type.setdefault(name, []).append(subscription_id)
        cache = (time.monotonic(), by_type)
        current_app.extensions["loyalty_social.delivery.subscribers"] = cache
    return cache[1].get(event_type, [])


def _forget_subscribers() -> None:
    current_app.extensions.pop("loyalty_social.delivery.subscribers", None)
