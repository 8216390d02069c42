"""Events Loyalty Social records itself (``social.linked``): stored like a sender's, through
the same catalogue, in the caller's transaction, and redacted when what they name must be
forgotten."""

from __future__ import annotations

import json

from ..extensions import db
from ..ids import new_id
from ..privacy import is_erased
from ..sql import insert_ignoring_duplicates
from ..timeutil import utcnow
from .catalogue import lookup
from .models import ActivityEvent, Source
from .rows import pending_event_row

INTERNAL_SOURCE = "internal"


def record_internal_event(
    type: str,
    member_id: str,
    data: dict,
    source: str = INTERNAL_SOURCE,
    webhook_id: str | None = None,
    evidence: str = "verified",
) -> str | None:
    """Store an event Loyalty Social itself observed (e.g. ``social.linked``), in the caller's
    transaction; return its id, or None when ``webhook_id`` was already recorded (or the
    member was erased).

    ``evidence``: how well we know it (a share proven by clicks is ``tracked``).
    A deterministic ``webhook_id`` makes the event happen once: a repeat inserts nothing
    (ON CONFLICT DO NOTHING), so nothing can pay twice. The source is created on demand,
    disabled and without secrets, so nobody can post webhooks in its name. The caller
    dispatches the id after its commit (``committer.dispatch``); the sweeper covers a failure.
    """
    event_type = lookup(type, 1)
    if event_type is None:
        raise ValueError(f"{type!r} is not in the catalogue")
    if is_erased(member_id):
        return None  # nothing about an erased member is recorded again
    data = event_type.load(data)
    now = utcnow()
    connection = db.session.connection()
    insert_ignoring_duplicates(
        connection,
        Source.__table__,
        [{"name": source, "max_evidence": "confirmed", "enabled": False, "created_at": now}],
        ["name"],
    )
    body = json.dumps(
        {"type": type, "member_id": member_id, "data": data}, sort_keys=True, default=str
    ).encode()
    row = pending_event_row(
        source_name=source,
        webhook_id=webhook_id or new_id("int"),
        event_type=event_type,
        member_id=member_id,
        occurred_at=now,
        received_at=now,
        evidence=evidence,
        evidence_claimed=evidence,
        data=data,
        body=body,
    )
    inserted = insert_ignoring_duplicates(
        connection, ActivityEvent.__table__, [row], ["source_name", "webhook_id"]
    )
    return row["id"] if inserted else None


def redact_internal_event(
    webhook_id: str, field: str, value: str, replacement: str, source: str = INTERNAL_SOURCE
) -> bool:
    """Replace ``value`` in the internal event's ``data[field]`` (e.g. a subject by its keyed
    hash) once it must not be kept; the event stays as the ledger's evidence of what it paid.
    Returns whether the event said ``value``."""
    event = db.session.scalars(
        db.select(ActivityEvent).where(
            ActivityEvent.source_name == source, ActivityEvent.webhook_id == webhook_id
        )
    ).first()
    if event is None or (event.data or {}).get(field) != value:
        return False
    event.data = {**event.data, field: replacement}
    return True
