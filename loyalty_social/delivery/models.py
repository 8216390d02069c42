"""Outbox tables: what must reach the backend or a subscriber, every try, and who subscribes."""

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..dbtypes import UTCDateTime
from ..extensions import db

# The vocabulary of outbox rows.
BACKEND = "backend"
EVENT = "event"
EVENT_TYPES = (
    "award.created",
    "award.delivered",
    "award.reversed",
    "offer.granted",
    "social.linked",
    "social.unlinked",
    "consent.changed",
    "budget.threshold_reached",
)
# cancelled: never to be sent (the member it is about was erased).
STATUSES = ("pending", "delivered", "failed", "dead", "cancelled")
GIVEN_UP = ("failed", "dead")
CANCELLED = "cancelled"
# The consent a targeted award's backend calls need when they are sent.
TARGETED = "targeted_rewards"


class Subscription(db.Model):
    """An endpoint (the backend, a CRM) that receives signed outbound events of chosen types."""

    __tablename__ = "subscription"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    event_types: Mapped[list] = mapped_column(JSON)
    # The Standard Webhooks ``whsec_`` key, encrypted at rest; shown once at creation.
    secret_encrypted: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # Disabled, not deleted: its deliveries stay inspectable.
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Delivery(db.Model):
    """One outbox row: a call to the backend or one event to one subscriber.

    Written in the transaction that caused it (an award, a reversal, a consent change), so a
    crash can lose nothing; delivery jobs claim due rows in batches. ``target`` is "backend"
    or a subscription id; (target, idempotency_key) is unique, so recording twice is harmless.
    """

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("target", "idempotency_key"),
        Index("ix_delivery_status_next_attempt", "status", "next_attempt_at"),
        Index("ix_delivery_award", "award_id"),
        Index("ix_delivery_after", "after_id"),
        Index("ix_delivery_member", "member_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    target: Mapped[str] = mapped_column(String(40))
    # award | reversal | offer_grant | offer_redeem (backend calls) | event (to a subscriber)
    kind: Mapped[str] = mapped_column(String(16))
    # Backend calls: the Idempotency-Key. Events: the webhook-id (shared by all subscribers).
    idempotency_key: Mapped[str] = mapped_column(String(80))
    event_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    award_id: Mapped[str | None] = mapped_column(ForeignKey("award.id"), nullable=True)
    payload: Mapped[dict] = mapped_column(JSON)
    # Ordering: not sent until this row is delivered (a reversal waits for its award).
    after_id: Mapped[str | None] = mapped_column(ForeignKey("delivery.id"), nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # pending | delivered | failed | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Due time; while a job holds the row, the end of its lease.
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Retries stop here (the horizon after creation or after a manual retry): then "dead".
    give_up_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Last time a job was asked to look at it: the sweeper skips rows already on the queue.
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The member the row is about (export, erasure, skipping erased members); None for rows
    # about nobody in particular.
    member_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    # The consent the member must hold when the row is sent (targeted rewards): checked at
    # every claim; without it the row is cancelled.
    consent_purpose: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # While a job is calling the other side: the end of its lease (None between attempts),
    # so a cancellation never pulls a row out from under a call in flight.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class DeliveryAttempt(db.Model):
    """Append-only: one try of one delivery, for inspection (what the other side answered)."""

    __tablename__ = "delivery_attempt"
    __table_args__ = (Index("ix_delivery_attempt_delivery", "delivery_id", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("delivery.id"))
    outcome: Mapped[str] = mapped_column(String(16))  # delivered | retry | failed
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    duration_ms: Mapped[int] = mapped_column(Integer)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime)
