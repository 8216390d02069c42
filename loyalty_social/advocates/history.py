"""What happened to a member's share links, for their timeline: the clicks on them (time,
referring host, coarse agent, whether it counted; never the visitor hash)."""

from __future__ import annotations

from ..extensions import db
from ..sql import timeline_rows
from .models import Click, ShareLink


def member_timeline(member_id: str, cursor, limit: int) -> list[dict]:
    """Clicks on the member's links, newest first (the (link, time) index per link)."""
    query = (
        db.select(Click)
        .join(ShareLink, ShareLink.code == Click.link_code)
        .where(ShareLink.member_id == member_id)
    )
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
        for click in timeline_rows(query, Click.at, Click.id, "click", cursor, limit)
    ]
