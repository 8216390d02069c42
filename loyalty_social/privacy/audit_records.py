"""What the audit log holds about a member: changes they made themselves (actor
``member:<id>``), made to their record (target ``("member", id)``), or whose snapshots name
them (e.g. a share link made for them). Erasure keeps each change and loses who it was: actor
``member:erased``, the target the anonymous member, no snapshots. (The snapshot search reads
the log's text: an operator's rare request, not a hot path.)"""

from __future__ import annotations

from sqlalchemy import Text, and_, cast, or_, update

from ..audit.models import AuditRecord
from ..extensions import db
from .registry import Erasure, as_dict


def _named(member_id: str):
    quoted = f'"{member_id}"'
    return or_(
        cast(AuditRecord.before, Text).contains(quoted, autoescape=True),
        cast(AuditRecord.after, Text).contains(quoted, autoescape=True),
    )


def _about(member_id: str):
    return or_(
        AuditRecord.actor == f"member:{member_id}",
        and_(AuditRecord.target_kind == "member", AuditRecord.target_id == member_id),
        _named(member_id),
    )


def export_audit(member_id: str) -> list[dict]:
    rows = db.session.scalars(
        db.select(AuditRecord).where(_about(member_id)).order_by(AuditRecord.id)
    )
    return [as_dict(r, ("id", "at", "actor", "action", "target_kind", "target_id")) for r in rows]


def erase_audit(erasure: Erasure) -> dict:
    actor = db.session.execute(
        update(AuditRecord)
        .where(AuditRecord.actor == f"member:{erasure.member_id}")
        .values(actor="member:erased", before=None, after=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    target = db.session.execute(
        update(AuditRecord)
        .where(AuditRecord.target_kind == "member", AuditRecord.target_id == erasure.member_id)
        .values(target_id=erasure.anonymous_id, before=None, after=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    snapshots = db.session.execute(
        update(AuditRecord)
        .where(_named(erasure.member_id))
        .values(before=None, after=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    return {"records": actor + target + snapshots}
