"""The console's sign-in session: a ``ConsoleSession`` row named by a random token in its own
cookie (HttpOnly, SameSite=Lax, Secure in production or behind an https PUBLIC_URL, and then
``__Host-`` prefixed). It is independent of the portal's Flask session, so a marketer who is
also a member keeps both.

CSRF: every console form carries ``HMAC(SECRET_KEY, basis)``, where the basis is the session
token once signed in and, before that, a random pre-session cookie (so the sign-in form is
protected too). Nothing is stored for it; a new session makes every older form stale.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app, g, request

from ..access import users
from ..extensions import db
from ..timeutil import utcnow
from .models import ConsoleSession

PRE = "ls_console_pre"
# Idle time is written at most this often (seconds), so most pages cost no write.
TOUCH_EVERY = 30


def secure() -> bool:
    config = current_app.config
    return config["ENV"] == "production" or config["PUBLIC_URL"].startswith("https://")


def cookie_name() -> str:
    return "__Host-ls_console" if secure() else "ls_console"


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_for(user, via: str) -> None:
    """A fresh session for this user (nothing of an earlier one survives: fixation). Commits;
    the cookie is written by ``write_cookie`` after the view."""
    end("replaced")
    now = utcnow()
    config = current_app.config
    token = secrets.token_urlsafe(32)
    db.session.add(
        ConsoleSession(
            id=_key(token),
            user_id=user.id,
            via=via,
            opened_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(seconds=config["CONSOLE_SESSION_MAX_SECONDS"]),
        )
    )
    # Rows long over go, a few at a time as people sign in (indexed).
    db.session.execute(
        db.delete(ConsoleSession).where(ConsoleSession.expires_at < now - timedelta(days=7))
    )
    db.session.commit()
    g.console_token = token
    g.console_cookie = token


def _token() -> str:
    return g.get("console_token") or request.cookies.get(cookie_name(), "")


def current() -> users.Principal | None:
    """The signed-in user of this request (live session, enabled account), once per request.
    An idle or expired session is ended here, and ``g.console_ended`` says why."""
    if "console_principal" in g:
        return g.console_principal
    g.console_principal = None
    token = _token()
    row = db.session.get(ConsoleSession, _key(token)) if token else None
    if row is None or row.ended_at is not None:
        return None
    now = utcnow()
    idle = timedelta(seconds=current_app.config["CONSOLE_IDLE_SECONDS"])
    if row.expires_at <= now or row.last_seen_at + idle <= now:
        row.ended_at, row.ended_reason = now, "idle" if row.expires_at > now else "expired"
        db.session.commit()
        g.console_ended = row.ended_reason
        g.console_cookie = ""
        return None
    user = users.get(row.user_id)
    if user is None or user.disabled_at is not None:
        return None
    if (now - row.last_seen_at).total_seconds() >= min(TOUCH_EVERY, idle.total_seconds() / 4):
        row.last_seen_at = now
        db.session.commit()
    g.console_principal = users.principal(user)
    return g.console_principal


def end(reason: str) -> None:
    """End this browser's session for good (every copy of its cookie)."""
    token = _token()
    if token:
        row = db.session.get(ConsoleSession, _key(token))
        if row is not None and row.ended_at is None:
            row.ended_at, row.ended_reason = utcnow(), reason
            db.session.commit()
    g.pop("console_principal", None)
    g.console_token = ""
    g.console_cookie = ""


def csrf_token() -> str:
    """This browser's form token (the pre-session cookie is made on first need)."""
    basis = _token()
    if not basis:
        basis = request.cookies.get(PRE) or g.get("console_pre") or secrets.token_urlsafe(32)
        if request.cookies.get(PRE) != basis:
            g.console_pre = basis
    return _sign(basis)


def _sign(basis: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"console-csrf:" + basis.encode(), hashlib.sha256).hexdigest()


def csrf_valid(sent: str) -> bool:
    basis = _token() or request.cookies.get(PRE, "")
    return bool(sent and basis) and hmac.compare_digest(sent, _sign(basis))


def write_cookie(response):
    """Set or clear the session cookie (and the pre-session one) as this request decided."""
    options = {"httponly": True, "samesite": "Lax", "secure": secure(), "path": "/"}
    if "console_cookie" in g:
        if g.console_cookie:
            response.set_cookie(cookie_name(), g.console_cookie, **options)
            response.delete_cookie(PRE, path="/", secure=secure(), samesite="Lax")
        else:
            response.delete_cookie(cookie_name(), path="/", secure=secure(), samesite="Lax")
    elif g.get("console_pre"):
        response.set_cookie(PRE, g.console_pre, **options)
    return response
