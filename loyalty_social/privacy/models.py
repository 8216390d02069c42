"""Tombstones of erased members and the erasure log: what stays after an erasure."""

from datetime import datetime

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..dbtypes import UTCDateTime
from ..extensions import db


class Tombstone(db.Model):
    """An erased member, known only by a keyed hash of their id (``tombstones.member_hash``):
    intake, processing, delivery and the portal look it up, so nothing recreates the member,
    while the table names nobody to anyone without the server's key."""

    __tablename__ = "erasure_tombstone"

    member_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ErasureRecord(db.Model):
    """One run of an erasure: who asked, when, and how many records of each kind it removed
    or anonymised. ``kind``: erasure (the first), repeat (asked again), replay (re-applied
    after a restore)."""

    __tablename__ = "erasure_log"
    __table_args__ = (Index("ix_erasure_log_member_hash", "member_hash", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    member_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(160))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    counts: Mapped[dict] = mapped_column(JSON)
