"""Erasing a member who was referred through someone's share link, or whom the backend
reported as a referral: the sharer's referral events (the evidence of what they paid) stay,
naming the member nowhere - not in their data, nor in the keys of the event, the award or what
was delivered about it, which only ever held a keyed hash - and the sharer keeps their points
(SQLite and PostgreSQL, through the erasure API)."""

from __future__ import annotations

from loyalty_social.access.service import create_key

from ..helpers import drain
from ..privacy.everything import occurrences
from .conftest import seeded
from .test_links import make_link
from .test_referrals import click, events, points, rule, send, settle


def test_erasing_a_referred_member_redacts_the_sharers_event(adv_client, adv_app):
    keys = seeded(adv_app)
    rule(adv_app, "referral.attributed", 100)
    code = make_link(adv_client, keys["auth"], member="M-sharer")["code"]
    cookie = click(adv_app, code, 1)
    settle(adv_app)
    send(
        adv_client,
        keys["secret"],
        "member.signed_up",
        "M-referred",
        {"via": "email", "referral_code": cookie},
    )
    rule(adv_app, "referral.converted", 50)
    send(
        adv_client,
        keys["secret"],
        "referral.converted",
        "M-sharer",
        {"referral_code": "FRIEND-1", "referred_member_id": "M-referred"},
    )
    drain(adv_app)
    drain(adv_app)
    assert points(adv_client, keys["auth"], "M-sharer") == 150
    with adv_app.app_context():
        admin = {"Authorization": f"Bearer {create_key('privacy', ['admin'])}"}
    erased = adv_client.post("/api/v1/members/M-referred/erasure", headers=admin)
    assert erased.status_code == 200, erased.text
    [attributed] = events(adv_app, "referral.attributed")
    assert attributed.member_id == "M-sharer"
    assert attributed.data["referred_member_id"] != "M-referred"
    [converted] = events(adv_app, "referral.converted")
    assert converted.data["referred_member_id"] == attributed.data["referred_member_id"]
    assert occurrences(adv_app, "M-referred") == {}
    assert points(adv_client, keys["auth"], "M-sharer") == 150
