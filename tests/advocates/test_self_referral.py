"""Self-referral through the member's own social identity: a member links an identity, gives
it up, clicks their own share link and signs up a second membership with that identity. The
portal passes the referral cookie on to the sign-up; the conversion is refused and flagged
(real OpenID Connect provider process; SQLite in-process and PostgreSQL with RQ)."""

from __future__ import annotations

import uuid

import pytest

from ..helpers import drain
from ..identity.conftest import Browser, decode_ours, identity_settings
from ..identity.test_signin import handoff
from .conftest import SETTINGS, seeded
from .test_links import make_link
from .test_referrals import events, flags, points, rule, send


@pytest.fixture
def self_app(stack_config, oidc_provider, make_app):
    return make_app(stack_config | identity_settings(oidc_provider) | SETTINGS)


def test_self_referral_through_own_linked_identity_is_refused_and_flagged(self_app, oidc_provider):
    keys = seeded(self_app)
    rule(self_app, "referral.attributed", 100)
    api = self_app.test_client()
    subject = f"self-{uuid.uuid4().hex[:10]}"
    alice = Browser(self_app, oidc_provider)
    alice.arrive("M-alice")
    assert alice.link(subject).status_code == 303
    code = make_link(api, keys["auth"], member="M-alice")["code"]
    assert alice.unlink().status_code == 303  # no history kept: only the keyed hash remains

    # A fresh browser: Alice clicks her own link, then signs up with the identity she gave up.
    second = Browser(self_app, oidc_provider)
    clicked = second.client.get(f"/s/{code}", headers={"User-Agent": "Mozilla/5.0 (X11) Gecko"})
    assert clicked.status_code == 302
    cookie = second.client.get_cookie("ls_ref")
    assert cookie is not None and cookie.value.startswith(f"{code}.")
    landing = second.callback(second.authorize(second.start_signin(), subject))
    action, token = handoff(landing)
    claims = decode_ours(token).claims
    assert action.endswith("/sso/signup")
    assert claims["referral_code"] == cookie.value  # the portal passes the referral on
    second.arrive("M-alice-2", signup_ticket=claims["signup_ticket"], social_only=True)
    send(
        api,
        keys["secret"],
        "member.signed_up",
        "M-alice-2",
        {"via": "mock", "referral_code": claims["referral_code"]},
    )
    drain(self_app)
    drain(self_app)

    assert events(self_app, "referral.attributed") == []
    assert points(api, keys["auth"], "M-alice") == 0
    [flag] = flags(api, keys["auth"])
    assert flag["kind"] == "self_identity"
    assert (flag["sharer_id"], flag["referred_member_id"]) == ("M-alice", "M-alice-2")
