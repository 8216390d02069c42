"""The audit table: append-only, one row per change."""

from datetime import datetime

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..dbtypes import UTCDateTime
from ..extensions import db


class AuditRecord(db.Model):
    """One change: who (``actor``: ``key:<name>``, ``cli:<user>``, ``console:<user id>``,
    ``member:<id>``, ``system``), what (``action``, e.g. ``rule.activated``), on which record,
    and a redacted snapshot before and after. Never updated; ids sort by time."""

    __tablename__ = "audit_record"
    __table_args__ = (
        Index("ix_audit_record_target", "target_kind", "target_id", "id"),
        Index("ix_audit_record_actor", "actor", "id"),
        Index("ix_audit_record_action", "action", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(160))
    action: Mapped[str] = mapped_column(String(64))
    target_kind: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str] = mapped_column(String(160))
    before: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
