"""Consent: the current decision per member and purpose, and its append-only history."""

from datetime import datetime

from sqlalchemy import Boolean, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..dbtypes import UTCDateTime
from ..extensions import db


class ConsentRecord(db.Model):
    """The member's current decision for one purpose; read on every use, so a withdrawal
    applies to the very next request. No foreign key to member: the backend may record
    consent before the member's first activity reaches us."""

    __tablename__ = "consent_record"

    member_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(64), primary_key=True)
    granted: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str | None] = mapped_column(String(128), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ConsentEvent(db.Model):
    """One grant or withdrawal, never updated or deleted: the evidence of what was agreed."""

    __tablename__ = "consent_event"
    __table_args__ = (Index("ix_consent_event_member", "member_id", "purpose", "at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(128))
    purpose: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))  # granted | withdrawn
    source: Mapped[str] = mapped_column(String(32))  # portal | backend | ...
    actor: Mapped[str | None] = mapped_column(String(128), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
