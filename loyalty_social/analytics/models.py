"""Rollup tables: figures kept up to date by the write paths, so charts never scan history."""

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..dbtypes import UTCDateTime
from ..extensions import db


class DailyRollup(db.Model):
    """One figure of one UTC day: ``metric`` names what is counted (``events``, ``points``,
    ``consent.opt_in`` ...), ``key``/``key2`` its two dimensions ('' when unused), ``count`` how
    many and ``amount`` how much (points). Metrics are open: a feature that adds one (the
    advocates' funnel) needs no schema change, only ``rollups.add`` and a rebuild source."""

    __tablename__ = "rollup_daily"
    # A chart's top keys, day by day: a few keys' rows of a year, not every key's.
    __table_args__ = (Index("ix_rollup_daily_key", "metric", "key", "day"),)

    metric: Mapped[str] = mapped_column(String(48), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    key2: Mapped[str] = mapped_column(String(200), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0)
    amount: Mapped[int] = mapped_column(BigInteger, default=0)


class MonthlyRollup(db.Model):
    """``rollup_daily`` summed per calendar month (``month``: its first day), kept with it: a
    chart's top keys over a year read 12 rows a key and the partial months' days, not 365."""

    __tablename__ = "rollup_monthly"

    metric: Mapped[str] = mapped_column(String(48), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    key2: Mapped[str] = mapped_column(String(200), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0)
    amount: Mapped[int] = mapped_column(BigInteger, default=0)


class DailyTotal(db.Model):
    """``rollup_daily`` summed over its keys, kept with it: a chart's "other" (every key but
    the top ones) is the day's total minus theirs, one row a day however many keys there are."""

    __tablename__ = "rollup_daily_total"

    metric: Mapped[str] = mapped_column(String(48), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0)
    amount: Mapped[int] = mapped_column(BigInteger, default=0)


class MemberRollup(db.Model):
    """Points and awards per member, all time: the "top advocates" ranking reads its index."""

    __tablename__ = "rollup_member"
    __table_args__ = (Index("ix_rollup_member_points", "points"),)

    member_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    awards: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
