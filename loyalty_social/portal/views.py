"""Portal views: parse the request, call one service, render. Errors are HTML pages here."""

from __future__ import annotations

import secrets

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.exceptions import HTTPException

from ..advocates.links import referral_cookie
from ..consent import policies as consent_policies
from ..consent import service as consent
from ..extensions import db
from ..identity import assertions, flows, links, providers, signup
from ..identity import service as identity
from ..privacy import is_erased
from ..rewards import service as rewards
from ..rules import service as rules
from . import session as portal_session

ERASED = (
    "Your data with this service was erased at your request, so there is nothing to show. "
    "Please go back to the loyalty portal."
)
portal = Blueprint("portal", __name__, url_prefix="/portal", template_folder="templates")


class PortalError(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


@portal.errorhandler(PortalError)
def _portal_error(error: PortalError):
    db.session.rollback()
    return render_template("portal/error.html", message=error.message), error.status


@portal.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    db.session.rollback()
    return render_template("portal/error.html", message=error.description), error.code


@portal.before_request
def _nonce():
    g.csp_nonce = secrets.token_urlsafe(16)


@portal.after_request
def _headers(response):
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # assertions and codes stay here
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; img-src https: data:; style-src 'unsafe-inline'; "
        f"script-src 'nonce-{g.csp_nonce}'; base-uri 'none'; frame-ancestors 'none'"
    )
    return response


def _member() -> str:
    member = portal_session.member_id()
    if not member:
        raise PortalError("Your session has ended. Please come back from the loyalty portal.", 401)
    return member


@portal.route("/start", methods=["GET", "POST"])
def start():
    """The loyalty portal's hand-off: a verified member assertion opens a session."""
    token = request.values.get("assertion", "")
    portal_session.end("replaced")
    if not token:
        raise PortalError("The sign-in link is missing.")
    try:
        claims = assertions.verify_member_assertion(token)
    except assertions.AssertionRefused as error:
        db.session.commit()  # keep nothing but what verification itself wrote
        raise PortalError(str(error), 401) from None
    if is_erased(claims.member_id):
        db.session.commit()  # the assertion stays used
        raise PortalError(ERASED, 410)
    identity.record_sign_in_methods(claims.member_id, claims.social_only)
    notice = None
    event_id = None
    if claims.signup_ticket:
        try:
            event_id = signup.redeem_signup(claims.member_id, claims.signup_ticket).event_id
            notice = "Your social account is linked to your new membership."
        except identity.IdentityError as error:
            notice = str(error)
    db.session.commit()
    links.dispatch_after_commit(event_id)
    portal_session.open_for(claims.member_id, claims.return_to)
    if notice:
        session["notice"] = notice
    return redirect(url_for("portal.connections"), 303)


@portal.get("/connections")
def connections():
    member = _member()
    return render_template(
        "portal/connections.html",
        items=_connections(member),
        can_unlink=links.can_unlink(member),
        consents=consent.consents(member),
        points=rewards.balance(member),
        notice=session.pop("notice", None),
        return_to=session.get("return_to"),
        csrf_token=portal_session.csrf_token(),
    )


def _connections(member_id: str) -> list[dict]:
    """Each provider with the member's link, and what a first link pays: a question for the
    rules, asked here so identity does not reach up into them."""
    earns = rules.nominal_points("social.linked")
    return [{**item, "earns": earns} for item in links.connections(member_id)]


@portal.post("/connections/<provider>/link")
def link(provider):
    member = _member()
    portal_session.check_csrf()
    if not portal_session.opened_within(current_app.config["PORTAL_LINK_REAUTH_SECONDS"]):
        raise PortalError(
            "To link an account, please come back from the loyalty portal first: linking "
            "needs a recent sign-in.",
            403,
        )
    return _start_flow(provider, "link", member)


@portal.post("/connections/<provider>/unlink")
def unlink(provider):
    member = _member()
    portal_session.check_csrf()
    try:
        links.unlink(member, provider)
    except identity.LastSignInMethod as error:
        raise PortalError(str(error), 409) from None
    except identity.NotLinked as error:
        raise PortalError(str(error), 404) from None
    db.session.commit()
    session["notice"] = "The account was unlinked."
    return redirect(url_for("portal.connections"), 303)


def record_consent_choice(member: str, purpose: str) -> str:
    """The portal's one way to give or withdraw: the form says which decision and which policy
    version it showed (so the record proves what the member saw). Returns the notice."""
    portal_session.check_csrf()
    if purpose not in consent_policies.names():
        abort(404, "No such choice.")
    granted = request.form.get("granted") == "1"
    shown = request.form.get("policy_version", "")
    try:
        consent.set_consent(
            member, purpose, granted, "portal", member, int(shown) if shown.isdigit() else None
        )
    except consent.ConsentError as error:
        raise PortalError(str(error), 400) from None
    db.session.commit()
    label = next(p.label for p in consent_policies.purposes().values() if p.name == purpose)
    return f"{label}: {'consent given' if granted else 'consent withdrawn'}."


@portal.post("/consents/<purpose>")
def set_consent(purpose):
    record_consent_choice(_member(), purpose)
    return redirect(url_for("portal.connections"), 303)


@portal.get("/signin")
def signin():
    """'Sign in with ...': for members arriving without a session."""
    return render_template(
        "portal/signin.html",
        providers=providers.configs().values(),
        csrf_token=portal_session.csrf_token(),
    )


@portal.post("/signin/<provider>")
def signin_start(provider):
    portal_session.check_csrf()
    return _start_flow(provider, "signin", None)


def _start_flow(provider: str, purpose: str, member: str | None):
    try:
        started = flows.start(provider, purpose, member, portal_session.redirect_uri(provider))
    except flows.FlowError as error:
        raise PortalError(str(error), 404 if "not available" in str(error) else 502) from None
    db.session.commit()
    portal_session.remember_flow(started.flow_id, started.state, provider)
    return redirect(started.url, 303)


@portal.get("/oauth/<provider>/callback")
def callback(provider):
    """The one callback: the provider is a parameter, everything else comes from the flow."""
    pending = portal_session.take_flow()
    try:
        flow = flows.consume(provider, pending, request.args)
        db.session.commit()  # used up, whatever happens next
        finished = flows.exchange(flow, request.args)
    except flows.FlowError as error:
        db.session.commit()
        raise PortalError(str(error), 400) from None
    if flow.purpose == "link":
        return _finish_link(finished)
    return _finish_signin(finished)


def _finish_link(finished: flows.Finished):
    member = _member()
    if finished.flow.member_id != member:
        raise PortalError("This link was started for another session.", 400)
    try:
        result = links.link(member, finished.config, finished.profile, finished.token)
    except identity.LinkConflict as error:
        raise PortalError(str(error), 409) from None
    db.session.commit()
    links.dispatch_after_commit(result.event_id)
    session["notice"] = f"Your {finished.config.label} account is linked." + (
        " It already earned its linking reward with another membership, so linking it here "
        "earns nothing."
        if result.rewarded_elsewhere
        else ""
    )
    return redirect(url_for("portal.connections"), 303)


def _finish_signin(finished: flows.Finished):
    from flask import current_app

    try:
        outcome = signup.sign_in(finished.config, finished.profile)
    except identity.DuplicateRefused as error:
        db.session.commit()  # keep the flag for review
        raise PortalError(str(error), 409) from None
    db.session.commit()
    config = current_app.config
    if outcome.member_id is not None:
        target, token = (
            config["PORTAL_LOGIN_URL"],
            assertions.login_assertion(outcome.member_id, finished.config.name),
        )
    else:
        target, token = (
            config["PORTAL_SIGNUP_URL"],
            assertions.signup_assertion(
                outcome.ticket.id,
                finished.config.name,
                outcome.ticket.profile,
                referral_code=referral_cookie(),
            ),
        )
    if not target or not assertions.is_allowed_return_url(target):
        raise PortalError("The loyalty portal's sign-in address is not configured.", 500)
    return render_template("portal/handoff.html", target=target, assertion=token, nonce=g.csp_nonce)


@portal.get("/done")
def done():
    """Back to the loyalty portal, at the allow-listed address the assertion named."""
    return_to = session.get("return_to")
    portal_session.end("done")
    if not return_to or not assertions.is_allowed_return_url(return_to):
        return render_template("portal/done.html")
    return redirect(return_to, 303)
