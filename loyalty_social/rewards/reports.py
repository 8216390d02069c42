"""Small read-only sums over awards for pages (the console's rule list)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from ..extensions import db
from .models import Award


def points_by_rule(since: datetime) -> dict[str, int]:
    """Points granted since ``since``, per rule: one range read of the (status, created_at)
    index, so it costs the awards of the period, not the history."""
    rows = db.session.execute(
        select(Award.rule_id, func.sum(Award.points))
        .where(Award.status == "granted", Award.created_at >= since)
        .group_by(Award.rule_id)
    )
    return {rule_id: int(points or 0) for rule_id, points in rows}
