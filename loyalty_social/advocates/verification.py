"""Tracked evidence: a ``social.shared`` event that names a share link, once that link has
SHARE_VERIFY_CLICKS distinct human clicks, is proven. ``social.share_verified`` is recorded
once per link (its webhook id is the code), whichever comes last: the share event (processed
by the rules) or the click that reached the threshold (written by the click writer). Both take
the link's row lock first, so the later one always sees the other's write."""

from __future__ import annotations

from flask import current_app

from ..extensions import db
from ..intake.internal import record_internal_event
from ..timeutil import utcnow
from .models import ShareLink

VERIFIED = "social.share_verified"


def attach_share(event) -> str | None:
    """A processed ``social.shared`` with ``share_code``: the link is the member's shared
    post (its network becomes the links' utm_source). Another member's code is ignored: a
    member cannot claim someone else's clicks. Returns a new social.share_verified event id."""
    code = (event.data or {}).get("share_code")
    if not code:
        return None
    link = db.session.get(ShareLink, code, with_for_update=True)
    if link is None or link.member_id != event.member_id or link.shared_event_id is not None:
        return None
    link.shared_event_id = event.id
    link.network = event.data.get("network")
    return _verify_if_ready(link)


def verify_ready(codes: list[str]) -> list[str]:
    """Links whose counted clicks just grew (their rows are locked by the caller's UPDATE)."""
    threshold = current_app.config["SHARE_VERIFY_CLICKS"]
    ready = db.session.scalars(
        db.select(ShareLink)
        .where(
            ShareLink.code.in_(codes),
            ShareLink.clicks >= threshold,
            ShareLink.shared_event_id.is_not(None),
            ShareLink.verified_at.is_(None),
        )
        .order_by(ShareLink.code)
    ).all()
    return [event_id for link in ready if (event_id := _verify_if_ready(link))]


def _verify_if_ready(link: ShareLink) -> str | None:
    if (
        link.verified_at is not None
        or link.shared_event_id is None
        or link.clicks < current_app.config["SHARE_VERIFY_CLICKS"]
        or link.disabled_at is not None
    ):
        return None
    link.verified_at = utcnow()
    db.session.flush()
    return record_internal_event(
        VERIFIED,
        link.member_id,
        {
            "share_code": link.code,
            "network": link.network or "share",
            "url": link.target_url,
            "shared_event_id": link.shared_event_id,
            "clicks": link.clicks,
        },
        webhook_id=f"share-verified:{link.code}",
        evidence="tracked",
    )
