"""Intake logic: turn a verified webhook body into an event row; find, replay and sweep events."""

from __future__ import annotations

import json
import logging
from datetime import UTC, timedelta
from types import SimpleNamespace

from flask import current_app
from marshmallow import ValidationError
from sqlalchemy import bindparam, delete, exists, func, or_, text, update
from sqlalchemy.orm import aliased

from ..errors import Problem
from ..extensions import db
from ..privacy import erased_among
from ..queue import enqueue, oldest_live_job
from ..sql import newest_first_page, rows_json, run_write, timeline_rows
from ..storable import MESSAGE as STORABLE_MESSAGE
from ..storable import is_storable, unstorable_fields
from ..timeutil import utcnow
from .catalogue import EVIDENCE_LEVELS, evidence_rank, lookup, sender_types
from .committer import dispatch
from .models import ActivityEvent
from .rows import pending_event_row
from .schemas import EnvelopeSchema
from .sources import SourceView

log = logging.getLogger(__name__)
_envelope = EnvelopeSchema()


def build_event_row(
    source: SourceView, webhook_id: str, body: bytes, future_seconds: float
) -> dict:
    """Validate a verified body and return the row to store (raises Problem on bad input).

    Everything a row holds is checked here, so its INSERT cannot fail for its own content and
    take the other events of its group commit down with it: text every database can store
    (``storable``), lengths within their columns (schemas; long object keys are bounded by the
    catalogue), and an activity time at most ``future_seconds`` (the signature tolerance)
    ahead of our clock.
    """
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise Problem("malformed-json", f"The body is not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise Problem("validation-failed", "The body must be a JSON object.")
    _refuse_unstorable(document, body, webhook_id)
    try:
        envelope = _envelope.load(document)
    except ValidationError as error:
        raise Problem(
            "validation-failed", "The envelope is invalid.", errors=error.messages
        ) from None
    event_type = lookup(envelope["type"], envelope["version"])
    if event_type is None or event_type.internal_only:
        raise Problem(
            "unknown-event-type",
            f"Unknown event type {envelope['type']!r} version {envelope['version']}"
            + (" (Loyalty Social records it itself)." if event_type else "."),
            known_types=sender_types(),
        )
    try:
        data = event_type.load(envelope["data"])
    except ValidationError as error:
        raise Problem(
            "validation-failed", "The event data is invalid.", errors={"data": error.messages}
        ) from None
    now = utcnow()
    if envelope["timestamp"] > now + timedelta(seconds=future_seconds):
        raise Problem(
            "validation-failed",
            "The event's timestamp is in the future.",
            errors={"timestamp": [f"More than {future_seconds:g} s ahead of our clock."]},
        )
    claimed = envelope["evidence"]
    evidence = EVIDENCE_LEVELS[min(evidence_rank(claimed), evidence_rank(source.max_evidence))]
    return pending_event_row(
        source_name=source.name,
        webhook_id=webhook_id,
        event_type=event_type,
        member_id=envelope["member_id"],
        occurred_at=envelope["timestamp"],
        received_at=now,
        evidence=evidence,
        evidence_claimed=claimed,
        data=data,
        body=body,
    )


def _refuse_unstorable(document: dict, body: bytes, webhook_id: str) -> None:
    """422 naming each field, extra fields included, whose text cannot be stored. JSON can
    carry such text only as a \\u escape or as raw surrogate bytes (json.loads lets those
    through), so a body without either is not walked."""
    errors = {}
    if b"\\u" in body or b"\xed" in body:
        errors = unstorable_fields(document)
    if not is_storable(webhook_id):
        errors["webhook-id"] = [STORABLE_MESSAGE]
    if errors:
        raise Problem(
            "validation-failed", "The event holds text that cannot be stored.", errors=errors
        )


def list_events(
    status=None, source=None, type=None, member_id=None, after=None, limit=50
) -> tuple[list[ActivityEvent], str | None]:
    """Newest first, keyset-paginated by id (ids are time-ordered)."""
    filters = {
        ActivityEvent.status: status,
        ActivityEvent.source_name: source,
        ActivityEvent.type: type,
        ActivityEvent.member_id: member_id,
    }
    return newest_first_page(ActivityEvent, filters, after, limit)


def get_event(event_id: str) -> ActivityEvent | None:
    return db.session.get(ActivityEvent, event_id)


def replay_event(event_id: str) -> ActivityEvent:
    """Process an event again. Awards are unique per (rule, event): nothing pays twice."""
    event = db.session.get(ActivityEvent, event_id)
    if event is None:
        raise Problem("not-found", f"No event {event_id!r}.")
    event.status = "pending"
    event.error = None
    event.enqueued_at = utcnow()
    db.session.commit()
    enqueue("rules.process_events", [event_id])
    db.session.refresh(event)
    return event


# What evaluating an event reads of it.
# The error of a pending event that waits for a retry starts with this; a failed event's
# error is one that will not pass by itself.
TEMPORARY = "temporary, will retry: "

_CLAIMED = (
    "id",
    "type",
    "member_id",
    "occurred_at",
    "received_at",
    "evidence",
    "source_name",
    "object_key",
    "data",
    "outcome",
    "attempts",
    "status",
)


def claim_pending(event_ids: list[str]) -> list[SimpleNamespace]:
    """Lock this batch's pending events, in the order received; events another worker holds or
    finished are skipped (SKIP LOCKED never waits, so the lock order cannot deadlock).

    Looked up by id alone, status checked here: with ``status = 'pending'`` in the query,
    PostgreSQL's estimate of few pending events makes it walk the (status, received_at) index
    over every pending event, the whole backlog per batch, exactly when there is one. (An
    ORDER BY received_at invites the same: sorted here too.) Returned as plain records:
    evaluation reads their fields many times, an ORM attribute costs several times a plain
    one, and processing changes events only through ``mark_processed``/``mark_failed``.
    """
    table = ActivityEvent.__table__
    query = db.select(*(table.c[name] for name in _CLAIMED)).where(table.c.id.in_(event_ids))
    rows = db.session.execute(query.with_for_update(skip_locked=True))
    events = [SimpleNamespace(**row._mapping) for row in rows if row.status == "pending"]
    return sorted(events, key=lambda e: (e.received_at, e.id))


def without_erased(events: list[SimpleNamespace]) -> list[SimpleNamespace]:
    """The claimed events minus those about erased members (stored in a race with their
    erasure, or left by a restore): deleted where never processed, so processing creates
    nothing for them (no member row, no award, no delivery)."""
    erased = erased_among({e.member_id for e in events}) if events else set()
    if not erased:
        return events
    gone = [e.id for e in events if e.member_id in erased and e.outcome is None]
    if gone:
        db.session.execute(delete(ActivityEvent).where(ActivityEvent.id.in_(gone)))
        log.info("dropped %d events of erased members", len(gone))
    seen = [e.id for e in events if e.member_id in erased and e.outcome is not None]
    if seen:  # processed before (a replay): left as they were, never processed again
        db.session.execute(
            update(ActivityEvent).where(ActivityEvent.id.in_(seen)).values(status="processed")
        )
    return [e for e in events if e.member_id not in erased]


def removed_objects(object_keys: set[str], removal_types: set[str]) -> set[str]:
    """Of these objects, those a removal has arrived for (in any order relative to the
    original): one query for a whole batch."""
    if not object_keys:
        return set()
    query = db.select(ActivityEvent.object_key).where(
        ActivityEvent.object_key.in_(sorted(object_keys)), ActivityEvent.type.in_(removal_types)
    )
    return set(db.session.scalars(query.distinct()))


def removal_arrived(object_key, removal_types: set[str]):
    """SQL: has a removal of this object arrived (the question ``removed_objects`` answers
    for a batch), as a column of a scan over many events: one index probe per event."""
    removal = aliased(ActivityEvent)
    return exists().where(removal.object_key == object_key, removal.type.in_(sorted(removal_types)))


def mark_processed(outcomes: dict[str, dict]) -> None:
    """Record a batch's outcomes (event id -> outcome) in one statement."""
    if not outcomes:
        return
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        rows = [{"id": event_id, "outcome": outcome} for event_id, outcome in outcomes.items()]
        params = {"now": utcnow(), "rows": rows_json(rows)}
        run_write(connection, _MARK_PROCESSED_POSTGRESQL, params)
        return
    table = ActivityEvent.__table__
    statement = (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(
            status="processed",
            processed_at=bindparam("b_now"),
            attempts=table.c.attempts + 1,
            outcome=bindparam("b_outcome"),
            error=None,
        )
    )
    now = utcnow()
    connection.execute(
        statement,
        [{"b_id": k, "b_outcome": v, "b_now": now} for k, v in outcomes.items()],
    )


# The whole batch as one JSON parameter (see sql.insert_rows for why).
_MARK_PROCESSED_POSTGRESQL = text(
    "UPDATE activity_event AS e SET status = 'processed', processed_at = :now, "
    "attempts = e.attempts + 1, outcome = r.outcome, error = NULL "
    "FROM json_to_recordset(CAST(:rows AS json)) AS r(id varchar, outcome json) WHERE e.id = r.id"
)


def mark_failed(event_id: str, error: str) -> None:
    db.session.execute(
        update(ActivityEvent)
        .where(ActivityEvent.id == event_id, ActivityEvent.status == "pending")
        .values(status="failed", error=error[:2000], attempts=ActivityEvent.attempts + 1)
    )


def note_retry(event_ids: list[str], error: str) -> None:
    """A temporary failure: the events stay pending (to be retried), and say why they wait."""
    db.session.execute(
        update(ActivityEvent)
        .where(ActivityEvent.id.in_(event_ids), ActivityEvent.status == "pending")
        .values(error=f"{TEMPORARY}{error}"[:2000], attempts=ActivityEvent.attempts + 1)
    )


def stale_pending_ids(cutoff, limit: int) -> list[str]:
    """Pending events received, and last enqueued (if ever), before ``cutoff``."""
    query = (
        db.select(ActivityEvent.id)
        .where(
            ActivityEvent.status == "pending",
            ActivityEvent.received_at <= cutoff,
            or_(ActivityEvent.enqueued_at.is_(None), ActivityEvent.enqueued_at <= cutoff),
        )
        .order_by(ActivityEvent.received_at)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def sweep(older_than_seconds: float, batch_size: int, progress=None) -> int:
    """Re-enqueue what a crash or a Redis outage left pending; returns how many were sent.

    Only work whose job is really gone: an event handed to a job ``older_than_seconds`` before
    the oldest job the events queue still holds (waiting, running, or due for a retry) cannot
    be in any of them, since RQ serves a queue in order. So after an outage of the workers
    under load, the long queue is left alone and each pending event sits in one job.
    """
    # One cutoff for the whole sweep: what it enqueues itself is newer, so never seen twice.
    horizon = utcnow()
    oldest = oldest_live_job(current_app._get_current_object(), "events")
    if oldest is not None:
        horizon = min(horizon, oldest)
    cutoff = horizon - timedelta(seconds=older_than_seconds)
    total = 0
    while True:
        ids = stale_pending_ids(cutoff, batch_size * 10)
        db.session.rollback()
        if not ids:
            return total
        total += dispatch(ids, batch_size)
        if progress:
            progress(total)
        if len(ids) < batch_size * 10:
            return total


# The backlog gauge counts at most this many rows: beyond it, "huge" is the answer anyway.
BACKLOG_COUNT_CAP = 100_000


def backlog() -> list[tuple[tuple[str, ...], float]]:
    """Pending and failed events (each count capped), for the metrics scrape: index range
    scans over those statuses only, never the whole table."""
    table = ActivityEvent.__table__
    found = []
    for status in ("pending", "failed"):
        capped = db.select(table.c.id).where(table.c.status == status).limit(BACKLOG_COUNT_CAP)
        count = db.session.scalar(db.select(func.count()).select_from(capped.subquery()))
        found.append(((status,), float(count)))
    return found


def oldest_pending_age() -> list[tuple[tuple[str, ...], float]]:
    """Seconds since the oldest pending event arrived (0 when none): one index lookup."""
    oldest = db.session.scalar(
        db.select(func.min(ActivityEvent.received_at)).where(ActivityEvent.status == "pending")
    )
    if oldest is None:
        return [((), 0.0)]
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return [((), max(0.0, (utcnow() - oldest).total_seconds()))]


def member_timeline(member_id: str, cursor, limit: int) -> list[dict]:
    """The member's activities for their timeline, newest received first (``social.linked``
    is the linked account's own item)."""
    query = db.select(ActivityEvent).where(
        ActivityEvent.member_id == member_id, ActivityEvent.type != "social.linked"
    )
    rows = timeline_rows(
        query, ActivityEvent.received_at, ActivityEvent.id, "activity", cursor, limit
    )
    return [
        {
            "at": event.received_at,
            "source": "activity",
            "id": event.id,
            "kind": "level_changed" if event.type == "advocate.level_changed" else "activity",
            "type": event.type,
            "occurred_at": event.occurred_at,
            "evidence": event.evidence,
            "status": event.status,
            "data": event.data,
        }
        for event in rows
    ]
