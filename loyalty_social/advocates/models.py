"""Advocates: tracked share links, their clicks, referrals credited through them, and the
referral flags a marketer reviews."""

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ..dbtypes import UTCDateTime
from ..extensions import db

COUNTED = text("counted")
# Click ids: a bigint sequence (10M+ rows, written in batches), SQLite's rowid there.
ClickId = BigInteger().with_variant(Integer(), "sqlite")


class ShareLink(db.Model):
    """A member's tracked link to an allow-listed brand URL: ``/s/<code>``. One per
    (member, target): ``target_hash`` is the SHA-256 of the URL, so the unique index stays
    small however long URLs are. Counters are kept here, so the portal, the score and the
    verification never count click rows."""

    __tablename__ = "share_link"
    __table_args__ = (
        Index("uq_share_link_member_target", "member_id", "target_hash", unique=True),
        Index("ix_share_link_shared_event", "shared_event_id"),
    )

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("member.id"))
    target_url: Mapped[str] = mapped_column(String(2048))
    target_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The keyed daily visitor hash of whoever created it in the portal (self-referral check).
    creator_visitor: Mapped[str | None] = mapped_column(String(32), nullable=True)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The social.shared event that posted this link, its network (utm_source) and when it
    # became tracked evidence (social.share_verified recorded).
    shared_event_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    network: Mapped[str | None] = mapped_column(String(64), nullable=True)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Distinct human clicks (counted), link-preview fetchers and crawlers, repeat visits.
    clicks: Mapped[int] = mapped_column(Integer, default=0)
    bot_clicks: Mapped[int] = mapped_column(Integer, default=0)
    repeat_clicks: Mapped[int] = mapped_column(Integer, default=0)
    last_click_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Click(db.Model):
    """One request for ``/s/<code>``: no IP, only a keyed hash of IP and user agent that
    changes every day (``visitor``), the referring host and a coarse agent class. The partial
    unique index makes "counted" mean one per visitor and link, whichever process wrote it."""

    __tablename__ = "share_click"
    __table_args__ = (
        Index("ix_share_click_link_at", "link_code", "at"),
        Index(
            "uq_share_click_counted_visitor",
            "link_code",
            "visitor",
            unique=True,
            postgresql_where=COUNTED,
            sqlite_where=COUNTED,
        ),
    )

    id: Mapped[int] = mapped_column(ClickId, primary_key=True, autoincrement=True)
    link_code: Mapped[str] = mapped_column(ForeignKey("share_link.code"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    referrer_host: Mapped[str | None] = mapped_column(String(255), nullable=True)
    agent: Mapped[str] = mapped_column(String(16))  # desktop | mobile | bot | other
    visitor: Mapped[str] = mapped_column(String(32))
    counted: Mapped[bool] = mapped_column(Boolean)
    bot: Mapped[bool] = mapped_column(Boolean)
    repeat: Mapped[bool] = mapped_column(Boolean)


class Referral(db.Model):
    """A conversion credited (or refused) to the sharer of a link: once per referred member,
    whichever of ``member.signed_up`` and ``referral.converted`` arrives first."""

    __tablename__ = "referral"
    __table_args__ = (
        Index("ix_referral_sharer_at", "sharer_id", "converted_at"),
        Index("ix_referral_visitor_at", "visitor", "converted_at"),
    )

    referred_member_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    link_code: Mapped[str] = mapped_column(ForeignKey("share_link.code"))
    sharer_id: Mapped[str] = mapped_column(String(128))
    # The visitor hash of the click the referral value came from, when it said.
    visitor: Mapped[str | None] = mapped_column(String(32), nullable=True)
    event_id: Mapped[str] = mapped_column(String(40))  # the conversion event
    converted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))  # credited | held | refused
    # The referral.attributed event recorded for the sharer (None when refused).
    attributed_event_id: Mapped[str | None] = mapped_column(String(40), nullable=True)


class ReferralFlag(db.Model):
    """A referral that looked like fraud: refused (self-referral) or held for review
    (velocity). A marketer resolves it through the API."""

    __tablename__ = "referral_flag"
    __table_args__ = (Index("ix_referral_flag_open", "resolved_at", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # self_member | self_identity | self_visitor | visitor_velocity | burst
    kind: Mapped[str] = mapped_column(String(32))
    sharer_id: Mapped[str] = mapped_column(String(128), index=True)
    referred_member_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    link_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    event_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    detail: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    resolution: Mapped[str | None] = mapped_column(String(512), nullable=True)


class AdvocateSignal(db.Model):
    """How many signals of a kind a member had on a UTC day. Written as increments by the
    transaction that holds the member's row lock (processing, the recompute)."""

    __tablename__ = "advocate_signal"
    __table_args__ = (Index("ix_advocate_signal_day", "day"),)

    member_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # ISO date, UTC
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class AdvocateScore(db.Model):
    """A scored member's current score and level (no row: not scored, the lowest level)."""

    __tablename__ = "advocate_score"
    __table_args__ = (Index("ix_advocate_score_level", "level", "score"),)

    member_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    score: Mapped[int] = mapped_column(Integer, default=0)
    level: Mapped[str] = mapped_column(String(32))
    level_since: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
