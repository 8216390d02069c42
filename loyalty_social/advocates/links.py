"""Share links: made for allow-listed brand URLs, one per (member, target), listed with their
click counts. The redirect (``redirect.py``) and the click writer (``clicks.py``) read and
count them; nothing else changes a link but ``create_link`` and ``disable_link``."""

from __future__ import annotations

import hashlib
import secrets
import string

from flask import current_app, request

from .. import audit
from ..analytics import rollups
from ..errors import Problem
from ..extensions import db
from ..identity.service import insert_members
from ..sql import insert_ignoring_duplicates
from ..timeutil import utcnow
from .allowlist import allowed, prefixes_of
from .models import ShareLink
from .referrals import parse_referral

CODE_ALPHABET = string.ascii_letters + string.digits
CODE_LENGTH = 10  # 62^10: about 8e17 codes, not guessable by walking them
COOKIE = "ls_ref"  # the referral cookie the redirect sets: <code>.<visitor>


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def target_hash(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()


def check_target(url: str) -> None:
    if not allowed(url, prefixes_of(current_app)):
        raise Problem(
            "share-target-not-allowed",
            "Share links can only point to the brand's own pages (SHARE_LINK_TARGETS).",
            errors={"url": ["Not on the share allow-list."]},
        )


def create_link(
    member_id: str, url: str, creator_visitor: str | None = None
) -> tuple[ShareLink, bool]:
    """The member's link to ``url``: made once, the same link on every later call (returns
    it and whether it is new). Commits, with its audit record."""
    check_target(url)
    insert_members([member_id])
    digest = target_hash(url)
    row = {
        "code": new_code(),
        "member_id": member_id,
        "target_url": url,
        "target_hash": digest,
        "created_at": utcnow(),
        "creator_visitor": creator_visitor,
        "clicks": 0,
        "bot_clicks": 0,
        "repeat_clicks": 0,
    }
    connection = db.session.connection()
    created = bool(
        insert_ignoring_duplicates(
            connection, ShareLink.__table__, [row], ["member_id", "target_hash"]
        )
    )
    link = db.session.scalars(
        db.select(ShareLink).where(
            ShareLink.member_id == member_id, ShareLink.target_hash == digest
        )
    ).one()
    if created:
        rollups.add(db.session, "advocates.share", row["created_at"])
        audit.record(
            "share_link.created",
            target=("share_link", link.code),
            after={"member_id": member_id, "url": url},
        )
    db.session.commit()
    return link, created


def disable_link(code: str) -> ShareLink:
    """A disabled link answers 404 (within SHARE_LINK_CACHE_SECONDS in every process)."""
    link = db.session.get(ShareLink, code, with_for_update=True)
    if link is None:
        raise Problem("not-found", f"No share link {code!r}.")
    if link.disabled_at is None:
        link.disabled_at = utcnow()
        audit.record(
            "share_link.disabled",
            target=("share_link", code),
            before={"disabled": False},
            after={"disabled": True},
        )
    db.session.commit()
    return link


def member_links(member_id: str, limit: int = 100) -> list[ShareLink]:
    """The member's links, newest first, with their counters (the portal, the API)."""
    return list(
        db.session.scalars(
            db.select(ShareLink)
            .where(ShareLink.member_id == member_id)
            .order_by(ShareLink.created_at.desc(), ShareLink.code)
            .limit(limit)
        )
    )


def get_link(code: str) -> ShareLink | None:
    return db.session.get(ShareLink, code)


def share_url(code: str) -> str:
    """The public address of a link: PUBLIC_URL/s/<code> (relative without PUBLIC_URL)."""
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}/s/{code}"


def referral_cookie() -> str | None:
    """The request's referral cookie (``<code>.<visitor>``, set by the redirect) when well
    formed: what the portal passes on to the loyalty portal's sign-up."""
    value = request.cookies.get(COOKIE, "")
    return value if parse_referral(value) else None
