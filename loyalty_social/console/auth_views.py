"""Signing in and out: a password (argon2id, locked out after repeated failures) or single
sign-on through an OpenID Connect provider named in CONSOLE_SSO_PROVIDERS."""

from __future__ import annotations

from flask import current_app, g, redirect, render_template, request, session, url_for

from ..access import users
from ..extensions import db
from ..identity import flows, providers
from . import lockout, sessions
from .blueprint import console, role_required

FLOW = "console_oauth_flow"
ENDED = {
    "idle": "Your session ended after a while without activity; please sign in again.",
    "expired": "Your session reached its maximum length; please sign in again.",
}


def sso_providers() -> list[providers.ProviderConfig]:
    names = [n.strip() for n in current_app.config["CONSOLE_SSO_PROVIDERS"].split(",")]
    offered = providers.configs()
    return [offered[n] for n in names if n in offered and offered[n].oidc]


def _safe_next(target: str | None) -> str:
    """Only a path inside the console (never another host: an open redirect)."""
    if target and target.startswith("/console") and "//" not in target and "\\" not in target:
        return target
    return url_for("console.home")


def _login_page(message: str | None = None, status: int = 200, email: str = ""):
    config = current_app.config
    return (
        render_template(
            "console/login.html",
            message=message,
            email=email,
            next=request.values.get("next", ""),
            providers=sso_providers(),
            attempts=config["CONSOLE_LOCKOUT_ATTEMPTS"],
            minutes=max(1, config["CONSOLE_LOCKOUT_SECONDS"] // 60),
        ),
        status,
    )


@console.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        if sessions.current() is not None:
            return redirect(_safe_next(request.args.get("next")))
        return _login_page(ENDED.get(request.args.get("ended", "")))
    address = request.remote_addr or "unknown"
    limiter = lockout.limiter()
    email = request.form.get("email", "")[:254]
    if limiter.blocked(address):
        return _login_page(
            "Too many failed sign-ins from your network address; try again later.", 429, email
        )
    try:
        user = users.authenticate(email, request.form.get("password", ""))
    except users.LoginRefused as refused:
        limiter.failed(address)
        message = (
            "This account is locked after repeated failed sign-ins; try again later or ask "
            "an admin to unlock it."
            if refused.locked
            else "The email or password is wrong."
        )
        return _login_page(message, 401, email)
    sessions.open_for(user, "password")
    return redirect(_safe_next(request.form.get("next")), 303)


@console.post("/logout")
@role_required("viewer")
def logout():
    sessions.end("signed-out")
    return redirect(url_for("console.login"), 303)


def redirect_uri(provider: str) -> str:
    """Exact, per provider, from PUBLIC_URL where set (a forged Host cannot choose it)."""
    base = current_app.config["PUBLIC_URL"].rstrip("/") or request.host_url.rstrip("/")
    return f"{base}/console/sso/{provider}/callback"


@console.post("/sso/<provider>")
def sso_start(provider):
    if provider not in {p.name for p in sso_providers()}:
        return _login_page("That sign-in provider is not offered here.", 404)
    try:
        started = flows.start(provider, "console", None, redirect_uri(provider))
    except flows.FlowError as error:
        db.session.rollback()
        return _login_page(str(error), 502)
    db.session.commit()
    session[FLOW] = {"id": started.flow_id, "state": started.state, "provider": provider}
    return redirect(started.url, 303)


@console.get("/sso/<provider>/callback")
def sso_callback(provider):
    pending = session.pop(FLOW, None)
    try:
        flow = flows.consume(provider, pending, request.args)
        db.session.commit()  # used up, whatever happens next
        if flow.purpose != "console":
            raise flows.FlowError("This sign-in was not started by the console.")
        finished = flows.exchange(flow, request.args)
    except flows.FlowError as error:
        db.session.commit()
        return _login_page(str(error), 400)
    profile = finished.profile
    user = users.signed_in_by_sso(profile.email) if profile.email_verified else None
    if user is None:
        return _login_page(
            f"No console user has the verified email of this {finished.config.label} account.",
            403,
        )
    sessions.open_for(user, f"sso:{provider}")
    g.console_user = users.principal(user)
    return redirect(url_for("console.home"), 303)
