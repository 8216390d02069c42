"""Where each metric comes from, for ``rebuild``: every feature that adds to the rollups
registers a source that recomputes its metrics from its own history (the events, the ledger,
the consent history ...). A feature added later (the advocates' share -> click -> sign-up
funnel) registers its own, and the rollup tables need no change."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from flask import Flask, current_app
from sqlalchemy import Date, cast, func

from ..extensions import db

_KEY = "loyalty_social.rollup_sources"

# A daily row: (metric, day, key, key2, count, amount); a member row: (member_id, points, awards)
DailyRow = tuple[str, object, str, str, int, int]


@dataclass(frozen=True)
class Source:
    name: str
    metrics: tuple[str, ...]  # the daily metrics it owns (replaced by a rebuild)
    daily: Callable[[], Iterable[DailyRow]]
    members: Callable[[], Iterable[tuple[str, int, int]]] | None = None


def register(app: Flask, source: Source) -> None:
    app.extensions.setdefault(_KEY, {})[source.name] = source


def registered() -> list[Source]:
    return sorted(current_app.extensions.get(_KEY, {}).values(), key=lambda s: s.name)


def utc_day(column):
    """SQL for the UTC day of a timestamp column, on PostgreSQL and SQLite."""
    if db.engine.dialect.name == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)


def as_date(value) -> date:
    """``date(column)`` reads back as a date on PostgreSQL and as text on SQLite."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
