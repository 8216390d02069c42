from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..dbtypes import UTCDateTime
from ..extensions import db


class Source(db.Model):
    """A trusted sender of webhooks (the loyalty backend, a review platform ...)."""

    __tablename__ = "source"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The strongest evidence this source may vouch for; stronger claims are lowered to it.
    max_evidence: Mapped[str] = mapped_column(String(16))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    rate_limit: Mapped[float | None] = mapped_column(Float, nullable=True)
    rate_burst: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SourceSecret(db.Model):
    """One signing secret of a source, encrypted at rest; several live at once during rotation."""

    __tablename__ = "source_secret"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    source_name: Mapped[str] = mapped_column(ForeignKey("source.name"), index=True)
    secret_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SourcePublicKey(db.Model):
    """One ed25519 public key (``whpk_...``) of a source, for ``v1a`` signatures. Stored as is:
    it is public, and cannot sign. Several live at once during rotation."""

    __tablename__ = "source_public_key"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    source_name: Mapped[str] = mapped_column(ForeignKey("source.name"), index=True)
    public_key: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ActivityEvent(db.Model):
    """One accepted webhook: stored before we answer, processed once by the rules."""

    __tablename__ = "activity_event"
    __table_args__ = (
        UniqueConstraint("source_name", "webhook_id"),
        Index("ix_activity_event_status_received", "status", "received_at"),
        Index("ix_activity_event_object", "object_key", "type"),
        Index("ix_activity_event_member", "member_id", "received_at"),
        # A type's events newest first (list_events(type=...): the rule preview's picker).
        Index("ix_activity_event_type_id", "type", "id"),
        # Retention walks only the events whose payload is still kept.
        Index(
            "ix_activity_event_unpruned",
            "received_at",
            postgresql_where=text("pruned_at IS NULL"),
            sqlite_where=text("pruned_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    source_name: Mapped[str] = mapped_column(ForeignKey("source.name"))
    webhook_id: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(64))
    type_version: Mapped[int] = mapped_column(Integer)
    member_id: Mapped[str] = mapped_column(String(128))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    evidence: Mapped[str] = mapped_column(String(16))
    evidence_claimed: Mapped[str] = mapped_column(String(16))
    # What the activity is about (a review, a shared URL): reversals and per-object limits.
    object_key: Mapped[str | None] = mapped_column(String(512), nullable=True)
    data: Mapped[dict] = mapped_column(JSON)
    body_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # pending | processed | failed
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # When the payload (``data``) was pruned (retention) or the event anonymised (erasure).
    pruned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
