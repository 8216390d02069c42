"""Recompute every rollup from history: after a restore, a bug fix, or adding a metric."""

from __future__ import annotations

from collections import defaultdict

from ..extensions import db
from ..timeutil import utcnow
from . import rollups
from .sources import as_date, registered


def rebuild(progress=None) -> dict[str, int]:
    """Replace the rollups with what the registered sources compute, in one transaction (the
    charts show the old figures until it commits). Returns the rows written per source."""
    written: dict[str, int] = {}
    daily: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    members: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    metrics: set[str] = set()
    for source in registered():
        before = len(daily)
        metrics.update(source.metrics)
        for metric, day, key, key2, count, amount in source.daily():
            row = daily[
                (
                    metric,
                    as_date(day),
                    (key or "")[: rollups.KEY_LENGTH],
                    (key2 or "")[: rollups.KEY_LENGTH],
                )
            ]
            row[0] += int(count or 0)
            row[1] += int(amount or 0)
        if source.members is not None:
            for member_id, points, awards in source.members():
                members[member_id][0] += int(points or 0)
                members[member_id][1] += int(awards or 0)
        written[source.name] = len(daily) - before
        if progress:
            progress(source.name)
    now = utcnow()
    rollups.discard(db.session)
    rollups.replace_all(
        db.session,
        daily,
        [
            {"member_id": m, "points": p, "awards": n, "updated_at": now}
            for m, (p, n) in sorted(members.items())
            if p or n
        ],
        metrics,
    )
    db.session.commit()
    written["members"] = len(members)
    return written
