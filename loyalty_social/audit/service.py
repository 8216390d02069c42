"""Writing and reading the audit log. ``record`` only adds to the caller's session: the
change and its audit row commit together or not at all."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select

from ..extensions import db
from ..ids import new_id
from ..logs import log_context
from ..timeutil import utcnow
from .actor import current_actor
from .models import AuditRecord

# Snapshots never carry credentials, whatever a caller passes.
_SECRET_KEY = re.compile(r"secret|token|password|private|hash|api_key", re.IGNORECASE)
REDACTED = "[redacted]"
MAX_PAGE = 500


def redact(value):
    """Credentials out of a snapshot: under a key that names one, anything but a number or a
    flag (``tokens_revoked: 2`` stays readable) becomes ``[redacted]``."""
    if isinstance(value, dict):
        return {
            key: (
                REDACTED if _SECRET_KEY.search(str(key)) and not _harmless(item) else redact(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _harmless(value) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, str))


def record(
    action: str,
    *,
    target: tuple[str, str],
    before: dict | None = None,
    after: dict | None = None,
    actor: str | None = None,
) -> AuditRecord:
    """Add the audit row for a change to the current transaction (the caller commits)."""
    kind, target_id = target
    row = AuditRecord(
        id=new_id("aud"),
        at=utcnow(),
        actor=(actor or current_actor())[:160],
        action=action,
        target_kind=kind,
        target_id=str(target_id)[:160],
        before=redact(before) if before is not None else None,
        after=redact(after) if after is not None else None,
        request_id=log_context.get().get("request_id"),
    )
    db.session.add(row)
    return row


def search(
    *,
    actor: str | None = None,
    action: str | None = None,
    target_kind: str | None = None,
    target_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after_id: str | None = None,
    limit: int = 100,
) -> list[AuditRecord]:
    """Newest first; ``after_id`` continues a page (keyset: ids sort by time)."""
    query = select(AuditRecord).order_by(AuditRecord.id.desc()).limit(min(limit, MAX_PAGE))
    if actor:
        query = query.where(AuditRecord.actor == actor)
    if action:
        # "rule." lists every rule change; a full name lists one kind.
        if action.endswith("."):
            query = query.where(AuditRecord.action.startswith(action, autoescape=True))
        else:
            query = query.where(AuditRecord.action == action)
    if target_kind:
        query = query.where(AuditRecord.target_kind == target_kind)
    if target_id:
        query = query.where(AuditRecord.target_id == target_id)
    if since:
        query = query.where(AuditRecord.at >= since)
    if until:
        query = query.where(AuditRecord.at < until)
    if after_id:
        query = query.where(AuditRecord.id < after_id)
    return list(db.session.scalars(query))
