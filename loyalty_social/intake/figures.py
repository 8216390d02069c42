"""What intake's history contributes to analytics: events processed, by the UTC day they
arrived, their type and source (the rebuild source; processing adds them as it goes)."""

from __future__ import annotations

from sqlalchemy import func, select

from ..analytics.sources import Source, utc_day
from ..extensions import db
from .models import ActivityEvent


def _events():
    day = utc_day(ActivityEvent.received_at)
    query = (
        select(day, ActivityEvent.type, ActivityEvent.source_name, func.count())
        .where(ActivityEvent.status == "processed")
        .group_by(day, ActivityEvent.type, ActivityEvent.source_name)
    )
    for row_day, type_, source, count in db.session.execute(query):
        yield ("events", row_day, type_, source, count, 0)


SOURCE = Source("events", ("events",), _events)
