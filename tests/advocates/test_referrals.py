"""Verified shares and referrals through the rules pipeline (in-process on SQLite, RQ on
PostgreSQL): tracked evidence once per link, attribution once per referred member, and the
fraud checks: self-referral refused and flagged, velocity held for review."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from loyalty_social.access.service import create_key
from loyalty_social.extensions import db
from loyalty_social.intake.models import ActivityEvent

from ..helpers import drain, envelope, signed
from .conftest import browser, flush_clicks, seeded
from .test_links import make_link


def send(client, secret, event_type, member_id, data, timestamp=None):
    body = envelope(event_type, member_id, data)
    if timestamp:
        body["timestamp"] = timestamp
    raw, headers = signed(secret, body)
    response = client.post("/webhooks/backend", data=raw, headers=headers)
    assert response.status_code == 202, response.json
    return response.json["id"]


def click(app, code, n, address="198.51.100.1"):
    visitor = app.test_client(use_cookies=False)
    response = visitor.get(
        f"/s/{code}", headers={"User-Agent": browser(n)}, environ_base={"REMOTE_ADDR": address}
    )
    assert response.status_code == 302
    return response.headers.get("Set-Cookie", "").split(";")[0].removeprefix("ls_ref=")


def settle(app):
    flush_clicks(app)
    drain(app)


def events(app, event_type, member_id=None):
    with app.app_context():
        query = sa.select(ActivityEvent).where(ActivityEvent.type == event_type)
        if member_id:
            query = query.where(ActivityEvent.member_id == member_id)
        return list(db.session.scalars(query))


def points(client, auth, member):
    return client.get(f"/api/v1/members/{member}/balance", headers=auth).json["points"]


def rule(app, event_type, points_, min_evidence="claimed"):
    from loyalty_social.rules.service import add_rule

    with app.app_context():
        return add_rule(f"{event_type}: {points_}", event_type, points_, min_evidence)


def test_a_share_becomes_tracked_after_n_distinct_clicks_once(adv_client, adv_app):
    keys = seeded(adv_app, rules=(("social.shared", 5),))
    rule(adv_app, "social.share_verified", 20, min_evidence="tracked")
    code = make_link(adv_client, keys["auth"], member="M-sharer")["code"]
    send(
        adv_client,
        keys["secret"],
        "social.shared",
        "M-sharer",
        {"network": "facebook", "url": "https://shop.example/p/1", "share_code": code},
    )
    drain(adv_app)
    assert points(adv_client, keys["auth"], "M-sharer") == 5
    click(adv_app, code, 1)
    click(adv_app, code, 2)
    click(adv_app, code, 2)  # a repeat
    settle(adv_app)
    assert events(adv_app, "social.share_verified") == []  # two distinct people so far
    click(adv_app, code, 3)
    settle(adv_app)  # the writer may batch clicks: the third is counted alone
    [verified] = events(adv_app, "social.share_verified")
    assert verified.member_id == "M-sharer" and verified.evidence == "tracked"
    assert verified.data["share_code"] == code and verified.data["clicks"] == 3
    assert verified.data["network"] == "facebook"
    assert points(adv_client, keys["auth"], "M-sharer") == 25
    click(adv_app, code, 4)
    click(adv_app, code, 5)
    settle(adv_app)
    assert len(events(adv_app, "social.share_verified")) == 1  # once per link
    assert points(adv_client, keys["auth"], "M-sharer") == 25
    # the network shared on is the links' utm_source now
    location = adv_client.get(f"/s/{code}", headers={"User-Agent": browser(9)}).location
    assert "utm_source=facebook" in location


def test_clicks_before_the_share_event_count_too(adv_client, adv_app):
    keys = seeded(adv_app)
    code = make_link(adv_client, keys["auth"], member="M-early")["code"]
    for n in range(3):
        click(adv_app, code, n)
    settle(adv_app)
    assert events(adv_app, "social.share_verified") == []  # not shared (yet)
    send(
        adv_client,
        keys["secret"],
        "social.shared",
        "M-early",
        {"network": "x", "url": "https://shop.example/p/1", "share_code": code},
    )
    drain(adv_app)
    assert [e.member_id for e in events(adv_app, "social.share_verified")] == ["M-early"]


def test_another_members_code_proves_nothing(adv_client, adv_app):
    keys = seeded(adv_app)
    code = make_link(adv_client, keys["auth"], member="M-owner")["code"]
    for n in range(3):
        click(adv_app, code, n)
    send(
        adv_client,
        keys["secret"],
        "social.shared",
        "M-thief",
        {"network": "x", "url": "https://shop.example/p/1", "share_code": code},
    )
    settle(adv_app)
    assert events(adv_app, "social.share_verified") == []


def test_senders_cannot_send_the_events_we_record(adv_client, adv_app):
    keys = seeded(adv_app)
    for event_type, data in (
        (
            "social.share_verified",
            {
                "share_code": "abc",
                "network": "x",
                "url": "https://a.b/",
                "shared_event_id": "evt_1",
                "clicks": 9,
            },
        ),
        (
            "referral.attributed",
            {"share_code": "abc", "referred_member_id": "M-2", "via": "member.signed_up"},
        ),
    ):
        raw, headers = signed(keys["secret"], envelope(event_type, "M-1", data))
        response = adv_client.post("/webhooks/backend", data=raw, headers=headers)
        assert response.status_code == 422
        assert response.json["type"].endswith("/unknown-event-type")
        assert event_type not in response.json["known_types"]


def test_a_sign_up_with_the_code_credits_the_sharer_once(adv_client, adv_app):
    keys = seeded(adv_app)
    rule(adv_app, "referral.attributed", 100)
    code = make_link(adv_client, keys["auth"], member="M-sharer")["code"]
    cookie = click(adv_app, code, 1)
    settle(adv_app)
    send(
        adv_client,
        keys["secret"],
        "member.signed_up",
        "M-friend",
        {"via": "email", "referral_code": cookie},
    )
    # the backend also reports the conversion: the same referral, credited once
    send(
        adv_client,
        keys["secret"],
        "referral.converted",
        "M-sharer",
        {"referral_code": code, "referred_member_id": "M-friend"},
    )
    drain(adv_app)
    drain(adv_app)
    [attributed] = events(adv_app, "referral.attributed")
    assert attributed.member_id == "M-sharer"
    assert attributed.data == {
        "share_code": code,
        "referred_member_id": "M-friend",
        "via": "member.signed_up",
    }
    assert points(adv_client, keys["auth"], "M-sharer") == 100
    assert points(adv_client, keys["auth"], "M-friend") == 0
    # a code that is not a share link (the programme's own) is left alone
    send(
        adv_client,
        keys["secret"],
        "member.signed_up",
        "M-other",
        {"via": "email", "referral_code": "FRIEND-42"},
    )
    drain(adv_app)
    assert len(events(adv_app, "referral.attributed")) == 1


def test_a_conversion_after_the_window_credits_nothing(adv_client, adv_app):
    keys = seeded(adv_app)
    code = make_link(adv_client, keys["auth"], member="M-sharer")["code"]
    # A sender's clock cannot run ahead: age the link instead.
    with adv_app.app_context():
        db.session.execute(
            sa.text("UPDATE share_link SET created_at = :at"),
            {"at": datetime.now(UTC) - timedelta(days=31)},
        )
        db.session.commit()
    send(
        adv_client,
        keys["secret"],
        "member.signed_up",
        "M-late",
        {"via": "email", "referral_code": code},
        timestamp=datetime.now(UTC).isoformat(),
    )
    drain(adv_app)
    assert events(adv_app, "referral.attributed") == []
    # a click renews the window: the next conversion is credited
    click(adv_app, code, 1)
    settle(adv_app)
    send(
        adv_client,
        keys["secret"],
        "member.signed_up",
        "M-fresh",
        {"via": "email", "referral_code": code},
        timestamp=datetime.now(UTC).isoformat(),
    )
    drain(adv_app)
    assert [e.data["referred_member_id"] for e in events(adv_app, "referral.attributed")] == [
        "M-fresh"
    ]


def flags(client, auth, status="open"):
    response = client.get("/api/v1/referral-flags", query_string={"status": status}, headers=auth)
    assert response.status_code == 200
    return response.json["items"]


def test_self_referral_by_the_same_member_is_refused_and_flagged(adv_client, adv_app):
    keys = seeded(adv_app)
    rule(adv_app, "referral.attributed", 100)
    code = make_link(adv_client, keys["auth"], member="M-self")["code"]
    send(
        adv_client,
        keys["secret"],
        "referral.converted",
        "M-self",
        {"referral_code": code, "referred_member_id": "M-self"},
    )
    drain(adv_app)
    assert events(adv_app, "referral.attributed") == []
    [flag] = flags(adv_client, keys["auth"])
    assert (flag["kind"], flag["sharer_id"], flag["link_code"]) == ("self_member", "M-self", code)
    assert points(adv_client, keys["auth"], "M-self") == 0


def test_velocity_holds_the_reward_for_review_and_the_flag_resolves(adv_config, make_app):
    app = make_app({**adv_config, "REFERRAL_VISITOR_MAX": 1})
    client = app.test_client()
    keys = seeded(app)
    rule(app, "referral.attributed", 100)
    code = make_link(client, keys["auth"], member="M-busy")["code"]
    cookie = click(app, code, 1)
    settle(app)
    for friend in ("M-f1", "M-f2"):  # one visitor converting twice
        send(
            client,
            keys["secret"],
            "member.signed_up",
            friend,
            {"via": "email", "referral_code": cookie},
        )
    drain(app)
    drain(app)
    assert len(events(app, "referral.attributed")) == 2
    assert points(client, keys["auth"], "M-busy") == 100  # the first paid
    held = client.get("/api/v1/awards", query_string={"status": "held"}, headers=keys["auth"])
    [award] = held.json["items"]
    assert award["member_id"] == "M-busy" and award["points"] == 100
    [flag] = flags(client, keys["auth"])
    assert flag["kind"] == "visitor_velocity" and flag["referred_member_id"] == "M-f2"
    resolve = f"/api/v1/referral-flags/{flag['id']}/resolve"
    done = client.post(resolve, json={"resolution": "one household"}, headers=keys["auth"])
    assert done.status_code == 200 and done.json["resolved_at"] and done.json["resolved_by"]
    again = client.post(resolve, json={"resolution": "again"}, headers=keys["auth"])
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    assert flags(client, keys["auth"]) == []
    with app.app_context():
        admin = {"Authorization": f"Bearer {create_key('auditor', ['admin'])}"}
    audit = client.get(
        "/api/v1/audit", query_string={"action": "referral_flag.resolved"}, headers=admin
    )
    [entry] = audit.json["items"]
    assert entry["target_id"] == flag["id"] and entry["after"]["resolution"] == "one household"
    assert [f["id"] for f in flags(client, keys["auth"], "resolved")] == [flag["id"]]
    missing = client.post(
        "/api/v1/referral-flags/rfl_nope/resolve", json={"resolution": "x"}, headers=keys["auth"]
    )
    assert missing.status_code == 404
    # the marketer approves the held award in the approval queue
    approved = client.post(f"/api/v1/awards/{award['id']}/approve", headers=keys["auth"])
    assert approved.status_code == 200
    assert points(client, keys["auth"], "M-busy") == 200
