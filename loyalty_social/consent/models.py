"""Consent: versioned policy texts, the append-only evidence, and the current state derived
from it."""

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..dbtypes import UTCDateTime
from ..extensions import db


class ConsentPolicy(db.Model):
    """One version of a purpose's policy text, exactly as members were shown it. Published
    when the configured text changes; never updated, so a consent's version proves its text."""

    __tablename__ = "consent_policy"

    purpose: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    text: Mapped[str] = mapped_column(Text)
    text_sha256: Mapped[str] = mapped_column(String(64))
    # Consents given under earlier versions stop counting from this version on.
    requires_fresh_consent: Mapped[bool] = mapped_column(Boolean)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ConsentRecord(db.Model):
    """The member's current decision for one purpose: the latest ``ConsentEvent``, kept by
    the same write so a use reads one row. No foreign key to member: the backend may record
    consent before the member's first activity reaches us."""

    __tablename__ = "consent_record"

    member_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(64), primary_key=True)
    granted: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str | None] = mapped_column(String(128), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    policy_version: Mapped[int] = mapped_column(Integer, server_default="1")
    event_id: Mapped[str | None] = mapped_column(String(40), nullable=True)


class ConsentEvent(db.Model):
    """One grant or withdrawal, never updated or deleted: the evidence of what was agreed,
    under which policy version, how and by whom."""

    __tablename__ = "consent_event"
    __table_args__ = (Index("ix_consent_event_member", "member_id", "purpose", "at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(128))
    purpose: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))  # granted | withdrawn
    source: Mapped[str] = mapped_column(String(32))  # portal | backend | import
    actor: Mapped[str | None] = mapped_column(String(128), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    policy_version: Mapped[int] = mapped_column(Integer, server_default="1")
