"""The member's portal session: a signed, HttpOnly, SameSite=Lax cookie (Secure in
production), opened only by a verified member assertion, plus a per-session CSRF token."""

from __future__ import annotations

import hmac
import secrets

from flask import abort, current_app, request, session

MEMBER = "member_id"
CSRF = "csrf"
FLOW = "oauth_flow"


def open_for(member_id: str, social_only: bool, return_to: str | None) -> None:
    """A fresh session for this member: nothing of an earlier one survives (fixation)."""
    session.clear()
    session.permanent = True
    session[MEMBER] = member_id
    session["social_only"] = social_only
    if return_to:
        session["return_to"] = return_to
    session[CSRF] = secrets.token_urlsafe(32)


def member_id() -> str | None:
    return session.get(MEMBER)


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
