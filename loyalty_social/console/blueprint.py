"""The console's one blueprint, its guard and its navigation.

Every request under /console: signed in or sent to the sign-in page; every POST carries the
session's CSRF token (400 otherwise, before any view runs); the acting user is set for the
audit log; pages are never cached, framed or allowed to load anything from another host.
A view that changes something names the least role it needs with ``@role_required``; the
console's tests walk the URL map and refuse a POST route without it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from ..access.users import ROLES
from ..audit.actor import set_actor
from ..extensions import db
from . import sessions

console = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
# Reachable without a session (the sign-in pages and the vendored files).
PUBLIC = {"console.login", "console.sso_start", "console.sso_callback", "console.static"}
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; base-uri 'none'; frame-ancestors 'none'"
)
# Forms post only here; the sign-in page's single sign-on form is answered with a redirect to
# the provider, which form-action would block, so that page goes without it.
FORMS_HERE = "; form-action 'self'"


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    role: str
    order: int


NAV: list[NavItem] = []


def nav_item(label: str, endpoint: str, role: str = "viewer", order: int = 50) -> None:
    """Add a page to the navigation (shown to users holding ``role``)."""
    if role not in ROLES:
        raise ValueError(role)
    if all(item.endpoint != endpoint for item in NAV):
        NAV.append(NavItem(label, endpoint, role, order))
        NAV.sort(key=lambda item: item.order)


def role_required(role: str):
    """The least role a view needs: a POST (or page) by a lesser role gets the 403 page."""
    if role not in ROLES:
        raise ValueError(role)

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            user = sessions.current()
            if user is None or not user.can(role):
                abort(403, f"This needs the {role} role.")
            return view(*args, **kwargs)

        wrapper.console_role = role
        return wrapper

    return decorator


@console.before_request
def _guard():
    user = sessions.current()
    if request.method == "POST" and not sessions.csrf_valid(
        request.form.get("csrf_token") or request.headers.get("X-CSRF-Token", "")
    ):
        abort(400, "The form expired; reload the page and try again.")
    if request.endpoint in PUBLIC:
        return None
    if user is None:
        if request.method != "GET":
            abort(401, "Your session has ended; sign in again.")
        ended = g.get("console_ended")
        return redirect(url_for("console.login", next=request.full_path.rstrip("?"), ended=ended))
    g.console_user = user
    if "_audit_actor_token" not in g:  # reset by the audit module at teardown
        g._audit_actor_token = set_actor(user.actor)
    return None


@console.after_request
def _headers(response):
    sessions.write_cookie(response)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = CSP + (
        "" if request.endpoint in PUBLIC else FORMS_HERE
    )
    return response


@console.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    db.session.rollback()
    return (
        render_template("console/error.html", code=error.code, message=error.description),
        error.code,
    )


@console.context_processor
def _template_helpers():
    user = g.get("console_user")
    return {
        "console_user": user,
        "can": (lambda role: user is not None and user.can(role)),
        "nav": [item for item in NAV if user is not None and user.can(item.role)],
        "csrf_token": sessions.csrf_token,
    }
