from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..dbtypes import UTCDateTime
from ..extensions import db


class Award(db.Model):
    """One rule paying for one event: unique per (rule, event), so replays never pay twice.

    status: granted | held (waiting for a marketer) | rejected | reversed. A held award has
    consumed its limits (so a flood cannot pass them while it waits) but no ledger entry yet.
    """

    __tablename__ = "award"
    __table_args__ = (
        UniqueConstraint("rule_id", "event_id"),
        Index("ix_award_member_object", "member_id", "object_key"),
        Index("ix_award_status_created", "status", "created_at"),
        # "Which rules already paid for these events?" is asked of every batch.
        Index("ix_award_event", "event_id"),
        # The member's timeline: their awards newest first, a page at a time.
        Index("ix_award_member_created", "member_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    rule_id: Mapped[str] = mapped_column(ForeignKey("rule.id"))
    rule_version: Mapped[int] = mapped_column(Integer)
    event_id: Mapped[str] = mapped_column(ForeignKey("activity_event.id"))
    member_id: Mapped[str] = mapped_column(ForeignKey("member.id"))
    object_key: Mapped[str | None] = mapped_column(String(512), nullable=True)
    points: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The consent record that allowed a targeted rule to pay (purpose:member@granted time).
    consent_ref: Mapped[str | None] = mapped_column(String(300), nullable=True)
    campaign_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # How the points were computed, the offers granted, the limit keys consumed (to release).
    details: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    # Why it was held, rejected or reversed, and by whom.
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class LedgerEntry(db.Model):
    """Append-only: every change to a balance, pointing at its award, event and rule version.

    kind: award | reversal | debt_repayment. ``debt`` is what a reversal could not take under
    the floor policy (recorded on the balance, repaid from later awards).
    """

    __tablename__ = "ledger_entry"
    __table_args__ = (Index("ix_ledger_entry_member", "member_id", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("member.id"))
    award_id: Mapped[str] = mapped_column(ForeignKey("award.id"))
    event_id: Mapped[str] = mapped_column(ForeignKey("activity_event.id"))
    rule_id: Mapped[str] = mapped_column(ForeignKey("rule.id"))
    rule_version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    points: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    debt: Mapped[int] = mapped_column(Integer, default=0)
    actor: Mapped[str | None] = mapped_column(String(128), nullable=True)


class Balance(db.Model):
    """The member's points, maintained in the same transaction as each ledger entry (O(1) read).

    ``debt``: points reversals could not take back without going below zero (floor policy).
    """

    __tablename__ = "balance"

    member_id: Mapped[str] = mapped_column(ForeignKey("member.id"), primary_key=True)
    points: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    debt: Mapped[int] = mapped_column(Integer, default=0)


class Offer(db.Model):
    """An early-access offer: a product or launch, a window, an inventory, maybe codes."""

    __tablename__ = "offer"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    product: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    inventory: Mapped[int | None] = mapped_column(Integer, nullable=True)  # NULL: unlimited
    granted_count: Mapped[int] = mapped_column(Integer, default=0)
    uses_codes: Mapped[bool] = mapped_column(default=False)
    grant_ttl_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # active | archived
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str | None] = mapped_column(String(128), nullable=True)


class OfferCode(db.Model):
    """One imported code of an offer's pool; handed out once, to one grant."""

    __tablename__ = "offer_code"
    __table_args__ = (
        UniqueConstraint("offer_id", "code"),
        Index("ix_offer_code_free", "offer_id", "grant_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    offer_id: Mapped[str] = mapped_column(ForeignKey("offer.id"))
    code: Mapped[str] = mapped_column(String(200))
    grant_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OfferGrant(db.Model):
    """A member's access to an offer: once per member and offer."""

    __tablename__ = "offer_grant"
    __table_args__ = (
        UniqueConstraint("offer_id", "member_id"),
        Index("ix_offer_grant_member", "member_id", "granted_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    offer_id: Mapped[str] = mapped_column(ForeignKey("offer.id"))
    member_id: Mapped[str] = mapped_column(String(128))
    award_id: Mapped[str | None] = mapped_column(ForeignKey("award.id"), nullable=True)
    code: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # granted | redeemed
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
