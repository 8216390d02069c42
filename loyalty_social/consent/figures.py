"""What the consent history contributes to analytics: per purpose and day, first decisions,
opt-ins (not granted -> granted) and opt-outs. The rebuild source walks the history in
order; ``service.count_decision`` adds the same as each decision is written."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from ..analytics.sources import Source
from ..extensions import db
from .models import ConsentEvent


def _daily():
    query = select(
        ConsentEvent.member_id, ConsentEvent.purpose, ConsentEvent.action, ConsentEvent.at
    ).order_by(ConsentEvent.member_id, ConsentEvent.purpose, ConsentEvent.at, ConsentEvent.id)
    counts: Counter = Counter()
    last_key, state = None, None
    for member_id, purpose, action, at in db.session.execute(
        query.execution_options(yield_per=10_000)
    ):
        key = (member_id, purpose)
        if key != last_key:
            last_key, state = key, None
        granted = action == "granted"
        day = at.date()
        if state is None:
            counts[("consent.decided", day, purpose)] += 1
        if granted and not state:
            counts[("consent.opt_in", day, purpose)] += 1
        elif state and not granted:
            counts[("consent.opt_out", day, purpose)] += 1
        state = granted
    for (metric, day, purpose), count in counts.items():
        yield (metric, day, purpose, "", count, 0)


SOURCE = Source("consent", ("consent.decided", "consent.opt_in", "consent.opt_out"), _daily)
