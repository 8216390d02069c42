"""'Sign in with ...': linked identities log in, unlinked ones sign up; duplicates are refused
and flagged; the backend's member.signed_up then pays sign-up rules."""

from __future__ import annotations

import json
import re
import uuid

from loyalty_social.access.service import create_key
from loyalty_social.identity.assertions import LOGIN_TYP, SIGNUP_TYP

from ..helpers import envelope, seed, signed
from .conftest import PORTAL, Browser, decode_ours, set_provider_user
from .test_linking import linked_rows, points


def sub() -> str:
    return f"si-{uuid.uuid4().hex[:10]}"


def handoff(response) -> tuple[str, str]:
    """The auto-submitting form that posts our assertion to the portal."""
    assert response.status_code == 200, response.text
    action = re.search(r'<form method="post" action="([^"]+)"', response.text).group(1)
    assertion = re.search(r'name="assertion" value="([^"]+)"', response.text).group(1)
    return action, assertion


def sign_in(app, provider_url, subject):
    browser = Browser(app, provider_url)
    return browser.callback(browser.authorize(browser.start_signin(), subject))


def test_linked_identity_signs_the_member_in(id_app, oidc_provider):
    subject = sub()
    member = Browser(id_app, oidc_provider)
    member.arrive("M-login")
    member.link(subject)
    action, token = handoff(sign_in(id_app, oidc_provider, subject))
    assert action == f"{PORTAL}/sso/login"
    decoded = decode_ours(token)
    assert decoded.header["typ"] == LOGIN_TYP
    claims = decoded.claims
    assert claims["sub"] == "M-login" and claims["provider"] == "mock"
    assert claims["iss"] == "loyalty-social" and claims["aud"] == "loyalty-portal"
    assert 0 < claims["exp"] - claims["iat"] <= 60 and claims["jti"]


def test_unlinked_identity_signs_up_and_sign_up_rules_pay(id_app, oidc_provider):
    keys = seed(id_app, rules=(("member.signed_up", 50), ("social.linked", 100)))
    subject = sub()
    set_provider_user(
        oidc_provider, subject, name="Nina New", email="nina@example.test", email_verified=True
    )
    action, token = handoff(sign_in(id_app, oidc_provider, subject))
    assert action == f"{PORTAL}/sso/signup"
    decoded = decode_ours(token)
    assert decoded.header["typ"] == SIGNUP_TYP
    profile = decoded.claims["profile"]
    assert profile["subject"] == subject and profile["display_name"] == "Nina New"
    assert profile["email"] == "nina@example.test" and profile["email_verified"] is True

    # The portal creates member M-new, sends the member back with the ticket ...
    member = Browser(id_app, oidc_provider)
    member.arrive("M-new", signup_ticket=decoded.claims["signup_ticket"], social_only=True)
    assert "linked to your new membership" in member.page().text
    assert linked_rows(id_app, "M-new") == [("mock", subject, "linked", None)]
    # ... and the backend reports the sign-up through the usual webhook.
    body, headers = signed(keys["secret"], envelope("member.signed_up", "M-new", {"via": "mock"}))
    assert (
        id_app.test_client().post("/webhooks/backend", data=body, headers=headers).status_code
        == 202
    )
    assert points(id_app, "M-new") == 150
    # Now the identity signs M-new in.
    _, token = handoff(sign_in(id_app, oidc_provider, subject))
    assert decode_ours(token).claims["sub"] == "M-new"


def flags(app) -> list[dict]:
    with app.app_context():
        key = create_key("marketer", ["marketer"])
    response = app.test_client().get(
        "/api/v1/identity-flags", headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 200
    return response.json["items"]


def test_identity_linked_elsewhere_cannot_sign_up_another_member(id_app, oidc_provider):
    subject = sub()
    _, token = handoff(sign_in(id_app, oidc_provider, subject))
    ticket = decode_ours(token).claims["signup_ticket"]
    owner = Browser(id_app, oidc_provider)
    owner.arrive("M-owner")
    owner.link(subject)  # meanwhile, the identity gets linked to M-owner
    newcomer = Browser(id_app, oidc_provider)
    newcomer.arrive("M-dup", signup_ticket=ticket)
    assert "already belongs to another membership" in newcomer.page().text
    assert linked_rows(id_app, "M-dup") == []
    [flag] = flags(id_app)
    assert flag["kind"] == "signup_while_linked" and flag["subject"] == subject
    assert flag["member_ids"] == ["M-dup", "M-owner"]


def test_one_identity_cannot_sign_up_several_members(id_app, oidc_provider):
    subject = sub()
    _, first = handoff(sign_in(id_app, oidc_provider, subject))
    _, second = handoff(sign_in(id_app, oidc_provider, subject))  # two tabs, two tickets
    one = Browser(id_app, oidc_provider)
    one.arrive("M-one", signup_ticket=decode_ours(first).claims["signup_ticket"])
    assert linked_rows(id_app, "M-one")[0][1] == subject
    one.unlink()
    two = Browser(id_app, oidc_provider)
    two.arrive("M-two", signup_ticket=decode_ours(second).claims["signup_ticket"])
    assert "already used to create another membership" in two.page().text
    assert linked_rows(id_app, "M-two") == []
    # And a fresh sign-up attempt from that identity is refused at once.
    again = sign_in(id_app, oidc_provider, subject)
    assert again.status_code == 409 and "already used to create a membership" in again.text
    kinds = sorted(flag["kind"] for flag in flags(id_app))
    assert kinds == ["repeat_signup", "repeat_signup"]
    assert json.dumps(flags(id_app)).count("M-one") == 2


def test_another_account_with_the_same_verified_email_signs_up_not_in(id_app, oidc_provider):
    """E-mail is no identity: a second provider account that shares the linked one's verified
    address gets a sign-up ticket, never a login assertion for the linked member."""
    linked, other = sub(), sub()
    for subject in (linked, other):
        set_provider_user(
            oidc_provider, subject, email="twin@example.test", email_verified=True, name="Twin"
        )
    owner = Browser(id_app, oidc_provider)
    owner.arrive("M-twin")
    owner.link(linked)
    action, token = handoff(sign_in(id_app, oidc_provider, other))
    assert action == f"{PORTAL}/sso/signup"
    decoded = decode_ours(token)
    assert decoded.header["typ"] == SIGNUP_TYP and decoded.claims.get("sub") != "M-twin"
    assert decoded.claims["profile"]["subject"] == other
    # The linked account itself still signs its member in.
    _, token = handoff(sign_in(id_app, oidc_provider, linked))
    assert decode_ours(token).header["typ"] == LOGIN_TYP
    assert decode_ours(token).claims["sub"] == "M-twin"
