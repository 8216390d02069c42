"""Limits in O(1): counters keyed by (member, period bucket, scope), loaded once per batch.

A batch loads every counter it may read in one query, works on them in memory and writes the
changes back as increments in one statement. That is safe because only transactions holding
the member's row lock (processing sorts and locks a batch's members) write a member's counters;
budgets, shared across members, are locked for the batch instead (``service.Budgets``).
Periods are calendar buckets in the rule's time zone; a rolling window of N days sums N daily
buckets, so nothing ever scans a member's history.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import case, text, tuple_

from ..dbtypes import UTCDateTime
from ..extensions import db
from ..sql import insert_statement, rows_json, run_insert
from .models import RuleCounter

LIFE = "life"
# Scopes of the member's own cells: points paid per day across all rules (the daily ceiling)
# and events received per day (the velocity check), both by the day we received the event.
GLOBAL = "g"
RECEIVED = "v"


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_date(at: datetime, tz: str) -> date:
    return at.astimezone(zone(tz)).date()


def day_key(day: date) -> str:
    return f"d:{day.isoformat()}"


def week_key(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"w:{year}-W{week:02d}"


def month_key(day: date) -> str:
    return f"m:{day.year}-{day.month:02d}"


def object_key(value) -> str:
    """A bounded bucket for "once per object" (URLs can be long)."""
    return "o:" + hashlib.sha1(str(value).encode(), usedforsecurity=False).hexdigest()


def period_key(period: str, day: date) -> str:
    if period == "day":
        return day_key(day)
    if period == "week":
        return week_key(day)
    if period == "month":
        return month_key(day)
    return LIFE


def window_days(period: str, day: date, days: int | None) -> list[date]:
    """The calendar days a week or a rolling window covers, ending with ``day``."""
    if period == "week":
        start = day - timedelta(days=day.isoweekday() - 1)
        return [start + timedelta(days=i) for i in range((day - start).days + 1)]
    return [day - timedelta(days=i) for i in range(days or 1)]


def _midnight(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(), zone(tz)).astimezone(UTC)


def period_end(period: str, day: date, tz: str) -> datetime | None:
    """When a calendar period's bucket stops counting (None: never)."""
    if period == "day":
        return _midnight(day + timedelta(days=1), tz)
    if period == "week":
        return _midnight(day + timedelta(days=8 - day.isoweekday()), tz)
    if period == "month":
        first = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
        return _midnight(first, tz)
    return None


# --- The counters of one batch -----------------------------------------------------------


@dataclass
class Cell:
    count: int = 0
    points: int = 0
    last_at: datetime | None = None


# PostgreSQL: the keys as one JSON parameter joined on the primary key (one statement text and
# an index lookup per key, whatever the batch).
_READ_CELLS_POSTGRESQL = text(
    "SELECT c.member_id, c.bucket, c.scope, c.count, c.points, c.last_at FROM rule_counter c "
    "JOIN json_to_recordset(CAST(:keys AS json)) AS k(member_id varchar, bucket varchar, "
    "scope varchar) ON c.member_id = k.member_id AND c.bucket = k.bucket AND c.scope = k.scope"
)


def _read_cells(keys: set[tuple[str, str, str]]):
    """The stored cells among ``keys`` (SQLite: a superset when there are many)."""
    if db.session.get_bind().dialect.name == "postgresql":
        rows = [{"member_id": m, "bucket": b, "scope": s} for m, b, s in keys]
        return db.session.execute(
            _READ_CELLS_POSTGRESQL.columns(last_at=UTCDateTime()), {"keys": rows_json(rows)}
        )
    c = RuleCounter.__table__.c
    if len(keys) <= 500:
        where = tuple_(c.member_id, c.bucket, c.scope).in_(sorted(keys))
    else:
        members = sorted({k[0] for k in keys})
        buckets = sorted({k[1] for k in keys})
        scopes = sorted({k[2] for k in keys})
        where = c.member_id.in_(members) & c.bucket.in_(buckets) & c.scope.in_(scopes)
    return db.session.execute(
        db.select(c.member_id, c.bucket, c.scope, c.count, c.points, c.last_at).where(where)
    )


class CounterStore:
    """Counters read and written by one batch (or a dry run: ``persist=False``)."""

    persist_reads = True

    def __init__(self, persist: bool = True):
        self.persist = persist
        self.cells: dict[tuple[str, str, str], Cell] = {}
        self.deltas: dict[tuple[str, str, str], Cell] = {}
        self.loaded: set[tuple[str, str, str]] = set()

    def load(self, keys: set[tuple[str, str, str]]) -> None:
        """Fetch these (member, bucket, scope) cells in one query (a superset, filtered here)."""
        keys = {k for k in keys if k not in self.loaded}
        if not keys or not self.persist_reads:
            self.loaded |= keys
            return
        for member_id, bucket, scope, count, points, last_at in _read_cells(keys):
            key = (member_id, bucket, scope)
            if key in keys:
                self.cells[key] = Cell(count, points, last_at)
        self.loaded |= keys

    def load_limits(self, rule, member_id: str, event, facts) -> None:
        """The cells a rule's limits may read for this event (none for a store that starts
        empty: backtests decide tens of thousands of events a second)."""
        if self.persist_reads:
            self.load(rule.limit_keys(member_id, event, facts))

    def get(self, member_id: str, bucket: str, scope: str) -> Cell:
        return self.cells.get((member_id, bucket, scope)) or Cell()

    def total(self, member_id: str, buckets: list[str], scope: str) -> Cell:
        cells = [self.get(member_id, b, scope) for b in buckets]
        return Cell(sum(c.count for c in cells), sum(c.points for c in cells), None)

    def add(self, member_id, bucket, scope, count: int, points: int, at: datetime | None):
        key = (member_id, bucket, scope)
        # A store that never writes keeps no deltas (a backtest adds to millions of cells).
        for store in (self.cells, self.deltas) if self.persist else (self.cells,):
            cell = store.get(key)
            if cell is None:
                cell = store[key] = Cell()
            cell.count += count
            cell.points += points
            if at is not None and (cell.last_at is None or at > cell.last_at):
                cell.last_at = at

    def flush(self) -> None:
        """Write the batch's changes as increments, in one statement."""
        if not self.persist or not self.deltas:
            self.deltas.clear()
            return
        rows = [
            {
                "member_id": m,
                "bucket": b,
                "scope": s,
                "count": cell.count,
                "points": cell.points,
                "last_at": cell.last_at,
            }
            for (m, b, s), cell in sorted(self.deltas.items())
        ]
        self.deltas.clear()
        connection = db.session.connection()
        run_insert(connection, _counter_upsert(connection.dialect.name), rows)


@lru_cache(maxsize=4)
def _counter_upsert(dialect: str):
    """Counters written as increments (never read-modify-write in SQL): built once."""
    table = RuleCounter.__table__
    columns = ("member_id", "bucket", "scope", "count", "points", "last_at")
    statement = insert_statement(dialect, table, columns)
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=["member_id", "bucket", "scope"],
        set_={
            "count": table.c.count + excluded.count,
            "points": table.c.points + excluded.points,
            "last_at": case(
                (table.c.last_at.is_(None), excluded.last_at),
                (excluded.last_at.is_(None), table.c.last_at),
                (excluded.last_at > table.c.last_at, excluded.last_at),
                else_=table.c.last_at,
            ),
        },
    )


class DryCounterStore(CounterStore):
    """Starts empty and never writes: backtests."""

    persist_reads = False

    def __init__(self):
        super().__init__(persist=False)


class ReadOnlyCounterStore(CounterStore):
    """Reads the real counters, writes nothing: previews."""

    def __init__(self):
        super().__init__(persist=False)


# --- Limit specs -------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodLimit:
    period: str  # day | week | month | lifetime | rolling
    days: int | None
    count: int | None
    points: int | None

    def buckets(self, day: date) -> list[str]:
        """Every cell a check may read: for a rolling window, the N-1 days on either side
        (an event that arrives late counts in windows that end after it, too)."""
        if self.period == "rolling":
            return [day_key(day + timedelta(days=k)) for k in range(1 - self.days, self.days)]
        return [period_key(self.period, day)]

    def windows(self, day: date) -> list[list[str]]:
        """The windows an award on ``day`` counts in: one for calendar periods; for a rolling
        window of N days, the N windows that end on ``day`` ... ``day`` + N - 1."""
        if self.period != "rolling":
            return [[period_key(self.period, day)]]
        return [
            [day_key(end - timedelta(days=i)) for i in range(self.days)]
            for end in (day + timedelta(days=k) for k in range(self.days))
        ]

    def describe(self) -> str:
        what = " and ".join(
            part
            for part in (
                f"{self.count} award{'s' if self.count != 1 else ''}" if self.count else "",
                f"{self.points} points" if self.points else "",
            )
            if part
        )
        if self.period == "rolling":
            return f"{what} per {self.days} days"
        if self.period == "lifetime":
            return f"{what} in total"
        return f"{what} per {self.period}"


@dataclass(frozen=True)
class Hit:
    """A limit that stops an award: which, in words, and when it frees up (None: never)."""

    code: str
    limit: str
    words: str
    frees_at: datetime | None


def frees_at(limit: PeriodLimit, store, member_id, scope, day: date, tz: str):
    if limit.period in ("day", "week", "month"):
        return period_end(limit.period, day, tz)
    if limit.period == "rolling":
        days = window_days("rolling", day, limit.days)
        for oldest in reversed(days):  # the oldest day with activity leaves the window first
            if store.get(member_id, day_key(oldest), scope).count:
                return _midnight(oldest + timedelta(days=limit.days), tz)
        return _midnight(day + timedelta(days=1), tz)
    return None
