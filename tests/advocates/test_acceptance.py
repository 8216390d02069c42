"""Acceptance, real processes (granian server, RQ worker, PostgreSQL, Redis): a member's share
link is clicked by distinct people, a link-preview bot and a repeat visitor; the share becomes
tracked and the verified-share rule pays; one visitor signs up with the referral; the sharer's
referral reward pays."""

from __future__ import annotations

import requests

from ..helpers import envelope, signed, wait_until
from .conftest import SETTINGS, browser, seeded
from .test_referrals import rule


def test_share_clicks_verification_and_referral_end_to_end(
    pg_config, make_app, serve, start_worker
):
    config = {**pg_config, **SETTINGS, "SHARE_TRUSTED_PROXIES": 1}
    app = make_app(config)
    keys = seeded(app, rules=(("social.shared", 5),))
    rule(app, "social.share_verified", 20, min_evidence="tracked")
    rule(app, "referral.attributed", 100)
    server = serve(config)
    start_worker(config)
    auth = keys["auth"]

    def api(method, path, **kwargs):
        return requests.request(method, f"{server.url}{path}", headers=auth, timeout=10, **kwargs)

    def webhook(event_type, member_id, data):
        raw, headers = signed(keys["secret"], envelope(event_type, member_id, data))
        response = requests.post(
            f"{server.url}/webhooks/backend", data=raw, headers=headers, timeout=10
        )
        assert response.status_code == 202, response.text

    link = api(
        "POST", "/api/v1/members/M-sharer/share-links", json={"url": "https://shop.example/p/7"}
    ).json()
    code = link["code"]
    webhook(
        "social.shared",
        "M-sharer",
        {"network": "instagram", "url": "https://shop.example/p/7", "share_code": code},
    )

    def visit(agent, address):
        response = requests.get(
            f"{server.url}/s/{code}",
            headers={"User-Agent": agent, "X-Forwarded-For": address},
            allow_redirects=False,
            timeout=10,
        )
        assert response.status_code == 302
        assert response.headers["Location"].startswith("https://shop.example/p/7?utm_source=")
        return response.cookies.get("ls_ref")

    first = visit(browser(1), "198.51.100.1")
    visit(browser(2), "198.51.100.2")
    visit("facebookexternalhit/1.1", "192.0.2.50")  # the network's link preview
    visit(browser(1), "198.51.100.1")  # the first visitor again
    visit(browser(3), "198.51.100.3")

    def counted():
        items = api("GET", "/api/v1/members/M-sharer/share-links").json()["items"]
        item = items[0]
        return (
            item
            if (item["clicks"], item["bot_clicks"], item["repeat_clicks"]) == (3, 1, 1)
            else None
        )

    wait_until(counted)

    def balance():
        return api("GET", "/api/v1/members/M-sharer/balance").json()["points"]

    wait_until(lambda: balance() == 25)  # 5 for the share, 20 once it is proven
    item = api("GET", "/api/v1/members/M-sharer/share-links").json()["items"][0]
    assert item["verified_at"] and item["network"] == "instagram"

    webhook("member.signed_up", "M-friend", {"via": "email", "referral_code": first})
    wait_until(lambda: balance() == 125)
    ledger = api("GET", "/api/v1/members/M-sharer/ledger").json()["items"]
    assert sorted(e["points"] for e in ledger) == [5, 20, 100]
    assert api("GET", "/api/v1/referral-flags").json()["items"] == []
