"""Adding to the rollups, in the transaction of the effect they count.

A write path calls ``add`` (a daily figure) or ``add_member`` (a member's running total);
nothing is written then. The additions of one transaction are summed in memory per
(metric, day, key, key2) and written just before it commits (a ``before_commit`` hook on
the session): one upsert statement per table, one row per key however many events a batch
held, and nothing when the transaction rolls back. The same sums go to two coarser grains
in the same transaction: per calendar month (``rollup_monthly``) and per day over
all keys (``rollup_daily_total``), so a year's chart reads months and totals, not every day
of every key (``queries.top_breakdown``). The upsert adds (``count = count +
excluded.count``), so concurrent workers never lose each other's additions; rows go in key
order, so two transactions touching the same keys wait for each other instead of deadlocking.
PostgreSQL and SQLite both run it (``INSERT ... ON CONFLICT DO UPDATE``).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from datetime import UTC, date, datetime

from sqlalchemy import event
from sqlalchemy.orm import Session

from ..sql import insert_rows, insert_statement, run_insert
from ..timeutil import utcnow
from .models import DailyRollup, DailyTotal, MemberRollup, MonthlyRollup

_PENDING = "loyalty_social.rollups"
# Longer keys are cut to the column (a metric's key is an id, a type, a network: short).
KEY_LENGTH = 200


class Pending:
    """One transaction's additions, summed per key."""

    def __init__(self):
        self.daily: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
        self.members: dict[str, list[int]] = defaultdict(lambda: [0, 0])

    def __bool__(self):
        return bool(self.daily or self.members)


def _pending(session) -> Pending:
    pending = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = Pending()
    return pending


def day_of(moment: datetime | date) -> date:
    """The UTC day a moment belongs to (rollups are per UTC day)."""
    if isinstance(moment, datetime):
        return (moment.astimezone(UTC) if moment.tzinfo else moment).date()
    return moment


def add(session, metric: str, moment, key: str = "", key2: str = "", count=1, amount=0):
    """Count ``count`` (and ``amount`` points) for ``metric`` on the day of ``moment``."""
    row = _pending(session).daily[
        (metric, day_of(moment), (key or "")[:KEY_LENGTH], (key2 or "")[:KEY_LENGTH])
    ]
    row[0] += count
    row[1] += amount


def add_member(session, member_id: str, points: int, awards: int) -> None:
    row = _pending(session).members[member_id]
    row[0] += points
    row[1] += awards


def discard(session) -> None:
    session.info.pop(_PENDING, None)


def write(session) -> None:
    """Write the transaction's additions now (the commit hook calls it)."""
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    connection = session.connection()
    dialect = connection.dialect.name
    if pending.daily:
        _write_daily(connection, dialect, [(k, v) for k, v in pending.daily.items() if any(v)])
    if pending.members:
        now = utcnow()
        rows = [
            {"member_id": m, "points": p, "awards": n, "updated_at": now}
            for m, (p, n) in sorted(pending.members.items())
            if p or n
        ]
        if rows:
            run_insert(connection, _member_upsert(dialect), rows)


def grains(daily) -> tuple[list[dict], list[dict], list[dict]]:
    """``((metric, day, key, key2), (count, amount))`` pairs -> the rows of the three grains
    (daily, monthly, daily total), each in key order."""
    months: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    totals: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    rows = []
    for (metric, day, key, key2), (count, amount) in sorted(daily):
        rows.append(
            {
                "metric": metric,
                "day": day,
                "key": key,
                "key2": key2,
                "count": count,
                "amount": amount,
            }
        )
        for row in (months[(metric, day.replace(day=1), key, key2)], totals[(metric, day)]):
            row[0] += count
            row[1] += amount
    monthly = [
        {"metric": m, "month": d, "key": k, "key2": k2, "count": c, "amount": a}
        for (m, d, k, k2), (c, a) in sorted(months.items())
    ]
    total = [
        {"metric": m, "day": d, "count": c, "amount": a}
        for (m, d), (c, a) in sorted(totals.items())
    ]
    return rows, monthly, total


def _write_daily(connection, dialect: str, daily) -> None:
    for model, rows in zip(_GRAINS, grains(daily), strict=True):
        if rows:
            run_insert(connection, _upsert(dialect, model), rows)


_GRAINS = (DailyRollup, MonthlyRollup, DailyTotal)


@functools.lru_cache(maxsize=8)
def _upsert(dialect: str, model):
    """Add to a grain's row (``count = count + excluded.count``)."""
    table = model.__table__
    keys = [c.name for c in table.primary_key.columns]
    statement = insert_statement(dialect, table, (*keys, "count", "amount"))
    return statement.on_conflict_do_update(
        index_elements=keys,
        set_={
            "count": table.c["count"] + statement.excluded["count"],
            "amount": table.c.amount + statement.excluded.amount,
        },
    )


@functools.lru_cache(maxsize=4)
def _member_upsert(dialect: str):
    table = MemberRollup.__table__
    statement = insert_statement(dialect, table, ("member_id", "points", "awards", "updated_at"))
    return statement.on_conflict_do_update(
        index_elements=["member_id"],
        set_={
            "points": table.c.points + statement.excluded.points,
            "awards": table.c.awards + statement.excluded.awards,
            "updated_at": statement.excluded.updated_at,
        },
    )


def replace_all(session, daily: dict[tuple, list[int]], members: list[dict], metrics: set[str]):
    """Rebuild: the given metrics' rows (all grains) and the member totals replaced by
    ``daily`` (summed per (metric, day, key, key2)) and ``members``, in the caller's
    transaction."""
    connection = session.connection()
    for model in (*_GRAINS, MemberRollup):
        table = model.__table__
        delete = table.delete()
        if model is not MemberRollup:
            delete = delete.where(table.c.metric.in_(sorted(metrics)))
        connection.execute(delete)
    for model, rows in zip(_GRAINS, grains(daily.items()), strict=True):
        if rows:
            table = model.__table__
            run_insert(connection, insert_rows(connection, table, list(rows[0])), rows)
    if members:
        table = MemberRollup.__table__
        run_insert(connection, insert_rows(connection, table, list(members[0])), members)


def install() -> None:
    """Write pending additions with every commit, drop them with every rollback (once per
    process; every session class derives from SQLAlchemy's)."""
    if not event.contains(Session, "before_commit", write):
        event.listen(Session, "before_commit", write)
        event.listen(Session, "after_rollback", discard)
