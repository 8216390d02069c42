"""Portal sessions live server-side: "done", a new assertion and expiry end every copy of the
cookie at once; linking needs a recent assertion; the unlink guard fails closed."""

from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa

from loyalty_social.extensions import db
from loyalty_social.timeutil import utcnow

from .conftest import Browser

COOKIE = "ls_portal"


def copy_of(app, member: Browser):
    """Another client presenting the member's cookie, as a thief who copied it would."""
    thief = app.test_client()
    thief.set_cookie(COOKIE, member.client.get_cookie(COOKIE).value)
    return thief


def move_session_times(app, member_id: str, **columns) -> None:
    """Age the member's sessions in the database (the clock moved on)."""
    with app.app_context():
        db.session.execute(
            sa.text(
                "UPDATE portal_session SET "
                + ", ".join(f"{c} = :{c}" for c in columns)
                + " WHERE member_id = :m"
            ),
            {"m": member_id, **columns},
        )
        db.session.commit()


def test_a_copied_cookie_is_dead_after_done(id_app, oidc_provider):
    member = Browser(id_app, oidc_provider)
    member.arrive("M-done")
    thief = copy_of(id_app, member)
    assert thief.get("/portal/connections").status_code == 200  # a live copy works ...
    member.client.get("/portal/done")
    assert thief.get("/portal/connections").status_code == 401  # ... until "done"
    assert thief.get("/portal/privacy").status_code == 401
    assert member.page().status_code == 401


def test_a_new_assertion_ends_the_old_session(id_app, oidc_provider):
    member = Browser(id_app, oidc_provider)
    member.arrive("M-again")
    thief = copy_of(id_app, member)
    member.arrive("M-again")
    assert member.page().status_code == 200
    assert thief.get("/portal/connections").status_code == 401


def test_an_expired_session_ends_at_once(id_app, oidc_provider):
    member = Browser(id_app, oidc_provider)
    member.arrive("M-expired")
    assert member.page().status_code == 200
    move_session_times(id_app, "M-expired", expires_at=utcnow() - timedelta(seconds=1))
    assert member.page().status_code == 401


def test_linking_needs_a_recent_assertion(id_app, oidc_provider):
    member = Browser(id_app, oidc_provider)
    member.arrive("M-stale")
    csrf = member.csrf()
    reauth = id_app.config["PORTAL_LINK_REAUTH_SECONDS"]
    move_session_times(id_app, "M-stale", opened_at=utcnow() - timedelta(seconds=reauth + 1))
    stale = member.client.post("/portal/connections/mock/link", data={"csrf_token": csrf})
    assert stale.status_code == 403 and "come back from the loyalty portal" in stale.text
    assert member.page().status_code == 200  # still signed in for everything else
    member.arrive("M-stale")
    assert member.start_link().startswith(oidc_provider)


def test_unlink_guard_fails_closed_without_the_social_only_claim(id_app, oidc_provider):
    subject = f"closed-{uuid.uuid4().hex[:8]}"
    member = Browser(id_app, oidc_provider)
    member.arrive("M-closed", social_only=None)  # the claim is missing
    member.link(subject)
    assert "You sign in only with this account" in member.page().text
    refused = member.unlink()
    assert refused.status_code == 409
    member.arrive("M-closed", social_only=False)  # the portal says: another way in exists
    assert member.unlink().status_code == 303
