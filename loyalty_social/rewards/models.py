from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..dbtypes import UTCDateTime
from ..extensions import db


class Award(db.Model):
    """One rule paying for one event: unique per (rule, event), so replays never pay twice."""

    __tablename__ = "award"
    __table_args__ = (
        UniqueConstraint("rule_id", "event_id"),
        Index("ix_award_member_object", "member_id", "object_key"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    rule_id: Mapped[str] = mapped_column(ForeignKey("rule.id"))
    rule_version: Mapped[int] = mapped_column(Integer)
    event_id: Mapped[str] = mapped_column(ForeignKey("activity_event.id"))
    member_id: Mapped[str] = mapped_column(ForeignKey("member.id"))
    object_key: Mapped[str | None] = mapped_column(String(512), nullable=True)
    points: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # granted | reversed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class LedgerEntry(db.Model):
    """Append-only: every change to a balance, pointing at its award, event and rule version."""

    __tablename__ = "ledger_entry"
    __table_args__ = (Index("ix_ledger_entry_member", "member_id", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("member.id"))
    award_id: Mapped[str] = mapped_column(ForeignKey("award.id"))
    event_id: Mapped[str] = mapped_column(ForeignKey("activity_event.id"))
    rule_id: Mapped[str] = mapped_column(ForeignKey("rule.id"))
    rule_version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # award | reversal
    points: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Balance(db.Model):
    """The member's points, maintained in the same transaction as each ledger entry (O(1) read)."""

    __tablename__ = "balance"

    member_id: Mapped[str] = mapped_column(ForeignKey("member.id"), primary_key=True)
    points: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
