"""The member's portal session: a row in the database (``PortalSession``), opened only by a
verified member assertion, named by a random token in a signed, HttpOnly, SameSite=Lax cookie
(Secure in production), plus a per-session CSRF token.

The row, not the cookie, decides: "done", a new member assertion in the same browser and the
end of PORTAL_SESSION_SECONDS end it at once, so a copied cookie dies with it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import abort, current_app, g, request, session

from ..extensions import db
from ..timeutil import utcnow
from .models import PortalSession

SESSION_KEY = "sid"
CSRF = "csrf"
FLOW = "oauth_flow"


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_for(member_id: str, return_to: str | None) -> None:
    """A fresh session for this member: nothing of an earlier one survives (fixation)."""
    end("replaced")
    now = utcnow()
    token = secrets.token_urlsafe(32)
    db.session.add(
        PortalSession(
            id=_key(token),
            member_id=member_id,
            opened_at=now,
            expires_at=now + timedelta(seconds=current_app.config["PORTAL_SESSION_SECONDS"]),
        )
    )
    # Rows of sessions long over go (indexed, a few at a time as members arrive).
    db.session.execute(
        db.delete(PortalSession).where(PortalSession.expires_at < now - timedelta(days=1))
    )
    db.session.commit()
    session.clear()
    session.permanent = True
    session[SESSION_KEY] = token
    if return_to:
        session["return_to"] = return_to
    session[CSRF] = secrets.token_urlsafe(32)


def current() -> PortalSession | None:
    """This browser's live session row (not ended, not expired), once per request."""
    if "portal_session" not in g:
        token = session.get(SESSION_KEY)
        row = db.session.get(PortalSession, _key(token)) if token else None
        if row is not None and (row.ended_at is not None or row.expires_at <= utcnow()):
            row = None
        g.portal_session = row
    return g.portal_session


def member_id() -> str | None:
    row = current()
    return row.member_id if row is not None else None


def opened_within(seconds: float) -> bool:
    """Was this session opened by a member assertion at most ``seconds`` ago?"""
    row = current()
    return row is not None and utcnow() - row.opened_at <= timedelta(seconds=seconds)


def end(reason: str) -> None:
    """End this browser's session for good (every copy of its cookie) and forget the cookie."""
    token = session.get(SESSION_KEY)
    if token:
        row = db.session.get(PortalSession, _key(token))
        if row is not None and row.ended_at is None:
            row.ended_at = utcnow()
            row.ended_reason = reason
            db.session.commit()
    g.pop("portal_session", None)
    session.clear()


def csrf_token() -> str:
    if CSRF not in session:
        session[CSRF] = secrets.token_urlsafe(32)
    return session[CSRF]


def check_csrf() -> None:
    sent = request.form.get("csrf_token", "")
    expected = session.get(CSRF, "")
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        abort(400, "The form expired; reload the page and try again.")


def redirect_uri(provider: str) -> str:
    """Exact, per provider. From PUBLIC_URL where set (always in production), so a forged
    Host header cannot choose where the provider sends the code."""
    base = current_app.config["PUBLIC_URL"].rstrip("/") or request.host_url.rstrip("/")
    return f"{base}/portal/oauth/{provider}/callback"


def remember_flow(flow_id: str, state: str, provider: str) -> None:
    session[FLOW] = {"id": flow_id, "state": state, "provider": provider}


def take_flow() -> dict | None:
    """The pending flow, removed from the session: a response is answered once."""
    return session.pop(FLOW, None)
