"""What happened to a member's share links, for their timeline: the clicks on them (time,
referring host, coarse agent, whether it counted; never the visitor hash)."""

from __future__ import annotations

from ..extensions import db
from ..sql import timeline_rows
from .models import Click, ShareLink


def member_timeline(member_id: str, cursor, limit: int) -> list[dict]:
    """Clicks on the member's links, newest first: ``limit`` per link on the (link, time)
    index, merged here. A join ordered by time reads every click of every link; this reads
    at most links x limit rows, whatever the number of clicks."""
    codes = db.session.scalars(db.select(ShareLink.code).where(ShareLink.member_id == member_id))
    found: list[Click] = []
    for code in codes.all():
        query = db.select(Click).where(Click.link_code == code)
        found += timeline_rows(query, Click.at, Click.id, "click", cursor, limit)
    found.sort(key=lambda click: (click.at, click.id), reverse=True)
    return [
        {
            "at": click.at,
            "source": "click",
            "id": click.id,
            "kind": "click",
            "link_code": click.link_code,
            "referrer_host": click.referrer_host,
            "agent": click.agent,
            "counted": click.counted,
        }
        for click in found[:limit]
    ]
