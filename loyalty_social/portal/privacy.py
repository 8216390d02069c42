"""The member's privacy page: each purpose in plain words, its state, one button to give or
withdraw it (the same single click either way), and the member's own history."""

from __future__ import annotations

from flask import redirect, render_template, session, url_for

from ..consent import service as consent
from ..extensions import db
from . import session as portal_session
from .views import PortalError, portal, record_consent_choice

ACTIONS = {"granted": "Given", "withdrawn": "Withdrawn"}
SOURCES = {
    "portal": "on this page",
    "backend": "through the loyalty programme",
    "import": "imported",
}


def member_or_end() -> str:
    member = portal_session.member_id()
    if not member:
        raise PortalError("Your session has ended. Please come back from the loyalty portal.", 401)
    return member


@portal.get("/privacy")
def privacy():
    member = member_or_end()
    items = consent.consents(member)
    labels = {item["purpose"]: item["label"] for item in items}
    history = [
        {
            "at": event.at,
            "label": labels.get(event.purpose, event.purpose),
            "action": ACTIONS[event.action],
            "version": event.policy_version,
            "how": SOURCES.get(event.source, event.source),
        }
        for event in reversed(consent.history(member))
    ]
    db.session.commit()  # a changed policy text is published on first use
    return render_template(
        "portal/privacy.html",
        consents=items,
        history=history,
        notice=session.pop("notice", None),
        return_to=session.get("return_to"),
        csrf_token=portal_session.csrf_token(),
    )


@portal.post("/privacy/<purpose>")
def change_privacy(purpose):
    """One click either way, as easy to withdraw as to give."""
    session["notice"] = record_consent_choice(member_or_end(), purpose)
    return redirect(url_for("portal.privacy"), 303)
