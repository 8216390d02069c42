"""The member's timeline, assembled here from each feature's own ``member_timeline``: linked
accounts (identity), activities and level changes (intake), awards and offers (rewards),
consent changes (consent), clicks on their share links (advocates).

Keyset-paginated across all of them: each source returns its next ``limit + 1`` rows after
the cursor in one order (time, then source, then id, all descending; ``sql.timeline_rows``),
the page is the newest ``limit`` of their union, and the cursor is the last item's (time,
source, id), opaque to clients. Equal timestamps keep one stable order, so no item is skipped
or repeated between pages; each page costs one indexed query per source whatever the history.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from ..advocates import history as advocate_history
from ..consent import service as consent
from ..errors import Problem
from ..identity import links
from ..intake import service as intake
from ..rewards import awards, offers
from ..timeutil import isoformat

SOURCES = {
    "account": links.member_timeline,
    "activity": intake.member_timeline,
    "award": awards.member_timeline,
    "click": advocate_history.member_timeline,
    "consent": consent.member_timeline,
    "offer": offers.member_timeline,
}
KEYS = ("at", "source", "id", "kind")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# "<microseconds since 1970>.<source>.<id>": opaque to clients (they send back what a page
# gave), but every string of this shape is a position, so the document can say exactly what
# the API accepts.
CURSOR = (
    r"^[0-9]{1,16}\.(click\.[0-9]{1,18}"
    r"|(account|activity|award|consent|offer)\.[A-Za-z0-9_-]{1,40})$"
)
_CURSOR = re.compile(CURSOR)


def encode_cursor(item: dict) -> str:
    micros = (item["at"] - EPOCH) // timedelta(microseconds=1)
    return f"{micros}.{item['source']}.{item['id']}"


def decode_cursor(text: str):
    """(at, source, id) from a cursor; 422 naming ``cursor`` when it is not one."""
    if not isinstance(text, str) or not _CURSOR.match(text):
        raise Problem(
            "validation-failed",
            "The cursor is not one this API gave.",
            errors={"query": {"cursor": ["not a cursor from a previous page"]}},
        )
    micros, source, ident = text.removesuffix("\n").split(".", 2)  # "$" allows one
    at = EPOCH + timedelta(microseconds=int(micros))
    return at, source, int(ident) if source == "click" else ident


def _json(value):
    if isinstance(value, datetime):
        return isoformat(value)
    return value


def _shape(item: dict) -> dict:
    return {
        "id": f"{item['source']}:{item['id']}",
        "at": item["at"],
        "source": item["source"],
        "kind": item["kind"],
        "details": {k: _json(v) for k, v in item.items() if k not in KEYS},
    }


def member_timeline(member_id: str, cursor: str | None = None, limit: int = 50) -> dict:
    """One page of the member's timeline, newest first, and the cursor of the next."""
    after = decode_cursor(cursor) if cursor else None
    found: list[dict] = []
    for read in SOURCES.values():
        found += read(member_id, after, limit + 1)
    found.sort(key=lambda item: (item["at"], item["source"], item["id"]), reverse=True)
    page = found[:limit]
    return {
        "member_id": member_id,
        "items": [_shape(item) for item in page],
        "next_cursor": encode_cursor(page[-1]) if len(found) > limit else None,
    }
