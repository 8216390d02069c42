"""The one shape of a stored activity event row, for senders' events and our own."""

from __future__ import annotations

import hashlib
from datetime import datetime

from ..ids import new_id


def pending_event_row(
    *,
    source_name: str,
    webhook_id: str,
    event_type,
    member_id: str,
    occurred_at: datetime,
    received_at: datetime,
    evidence: str,
    evidence_claimed: str,
    data: dict,
    body: bytes,
) -> dict:
    """A new event, pending: handed to the dispatcher at once (``enqueued_at`` = now); the
    sweeper retries it if that hand-off is lost."""
    return {
        "id": new_id("evt"),
        "source_name": source_name,
        "webhook_id": webhook_id,
        "type": event_type.name,
        "type_version": event_type.version,
        "member_id": member_id,
        "occurred_at": occurred_at,
        "received_at": received_at,
        "evidence": evidence,
        "evidence_claimed": evidence_claimed,
        "object_key": event_type.object_key(data),
        "data": data,
        "body_sha256": hashlib.sha256(body).hexdigest(),
        "status": "pending",
        "attempts": 0,
        "enqueued_at": received_at,
    }
