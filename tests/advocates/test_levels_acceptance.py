"""Acceptance, real processes (PostgreSQL, the app under granian, an RQ worker process): a
member's reviews raise their advocate level to champion and the early-access rule grants the
offer; a member who withdrew consent to social activity use is not scored and gets nothing.
The portal's activity page in headless Chromium shows the level, the timeline, and the share
link the member made there with its click count (three people, not the bot or the repeat)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import requests

from loyalty_social.timeutil import isoformat

from ..helpers import envelope, seed, signed, wait_until
from ..identity.conftest import PORTAL, PORTAL_SECRET, member_assertion
from .conftest import browser

SETTINGS = {
    "PORTAL_SHARED_SECRET": PORTAL_SECRET,
    "PORTAL_RETURN_URLS": f"{PORTAL}/",
    "ADVOCATE_LEVELS": json.dumps({"fan": 0, "advocate": 20, "champion": 50}),
    "SHARE_LINK_TARGETS": "shop.example",
    "SHARE_LINK_CACHE_SECONDS": 0,
    "SHARE_CLICK_LINGER_SECONDS": 0,
}


def post(server, path, auth, body, method="post"):
    response = getattr(requests, method)(f"{server.url}{path}", json=body, headers=auth, timeout=10)
    assert response.status_code in (200, 201), response.text
    return response.json()


def review(server, secret, member_id, n):
    body = envelope(
        "review.published",
        member_id,
        {
            "review_id": f"{member_id}-{n}",
            "platform": "trustreviews",
            "sku": "SKU-1",
            "rating": 5,
            "text_length": 200,
        },
        timestamp=isoformat(datetime.now(UTC)),
    )
    raw, headers = signed(secret, body)
    response = requests.post(
        f"{server.url}/webhooks/backend", data=raw, headers=headers, timeout=10
    )
    assert response.status_code == 202, response.text


def test_champion_gets_early_access_and_withdrawn_consent_gets_nothing(
    pg_config, make_app, serve, start_worker, chromium
):
    config = pg_config | SETTINGS
    app = make_app(config)
    seeded = seed(app, rules=(), scopes=("backend", "marketer", "read"))
    auth, secret = seeded["auth"], seeded["secret"]
    server = serve(config)
    start_worker(config)
    offer = post(server, "/api/v1/offers", auth, {"name": "Spring launch", "product": "SKU-NEW"})
    post(
        server,
        "/api/v1/rules",
        auth,
        {
            "name": "Champions get early access",
            "status": "active",
            "event_types": ["advocate.level_changed"],
            "conditions": {"field": "data.level", "op": "eq", "value": "champion"},
            "rewards": [{"kind": "offer", "offer_id": offer["id"]}],
            "limits": {"once_per": "object"},
        },
    )
    post(
        server,
        "/api/v1/rules",
        auth,
        {
            "name": "Reviews",
            "status": "active",
            "event_types": ["review.published"],
            "rewards": [{"kind": "fixed", "points": 5}],
        },
    )
    consent = {"granted": True, "source": "backend"}
    post(server, "/api/v1/members/M-A/consents/social_activity_use", auth, consent, "put")
    post(server, "/api/v1/members/M-B/consents/social_activity_use", auth, consent, "put")
    post(
        server,
        "/api/v1/members/M-B/consents/social_activity_use",
        auth,
        {"granted": False, "source": "backend"},
        "put",
    )
    for n in range(10):  # 10 reviews x 5 = 50: champion
        review(server, secret, "M-A", n)
        review(server, secret, "M-B", n)

    def offers(member_id):
        return requests.get(
            f"{server.url}/api/v1/members/{member_id}/offers", headers=auth, timeout=10
        ).json()["items"]

    granted = wait_until(lambda: offers("M-A"), timeout=60)
    assert [g["offer_id"] for g in granted] == [offer["id"]]
    assert wait_until(
        lambda: (
            requests.get(
                f"{server.url}/api/v1/members/M-B/balance", headers=auth, timeout=10
            ).json()["points"]
            == 50
        )
    )
    timeline = requests.get(
        f"{server.url}/api/v1/members/M-A/timeline", params={"limit": 200}, headers=auth, timeout=10
    ).json()["items"]
    changes = [i["details"]["data"]["level"] for i in timeline if i["kind"] == "level_changed"]
    # newest first; a batch holding several reviews may go from fan to champion at once
    assert changes[0] == "champion" and set(changes) <= {"champion", "advocate"}
    other = requests.get(
        f"{server.url}/api/v1/members/M-B/timeline", params={"limit": 200}, headers=auth, timeout=10
    ).json()["items"]
    assert [i for i in other if i["kind"] == "level_changed"] == []
    assert offers("M-B") == []

    page = chromium.new_page()
    page.set_default_timeout(15000)
    page.goto(f"{server.url}/portal/start?assertion={member_assertion('M-A')}")
    page.goto(f"{server.url}/portal/activity")
    assert page.locator("#level-name").inner_text() == "Champion"
    assert page.get_by_role("heading", name="Your advocate level").is_visible()
    items = page.locator("#timeline li")
    assert "You got early access: Spring launch" in items.all_inner_texts()[0]
    assert any("You became Champion" in t for t in items.all_inner_texts())

    # A share link made on the page, with the keyboard; three people open it, and a link
    # preview and a repeat visit that do not count.
    page.get_by_label("Address of one of our pages").fill("https://shop.example/p/1")
    page.get_by_label("Address of one of our pages").press("Enter")
    page.wait_for_selector("#notice")
    link = page.locator("#links li").first
    code = link.get_attribute("id").removeprefix("link-")
    for agent in (*(browser(n) for n in (1, 2, 3)), "facebookexternalhit/1.1", browser(1)):
        opened = requests.get(
            f"{server.url}/s/{code}",
            headers={"User-Agent": agent},
            allow_redirects=False,
            timeout=10,
        )
        assert opened.status_code == 302

    def shown():
        page.goto(f"{server.url}/portal/activity")
        item = page.locator(f"#link-{code}")
        clicks = page.locator("#timeline li[data-kind=click]").count()  # all five recorded
        return (
            item.inner_text() if (item.get_attribute("data-clicks"), clicks) == ("3", 5) else None
        )

    assert "3 people opened it" in wait_until(shown, timeout=30)
    page.goto(f"{server.url}/portal/start?assertion={member_assertion('M-B')}")
    page.goto(f"{server.url}/portal/activity")
    assert "not used for advocate levels" in page.locator("#level").inner_text()
    page.close()
