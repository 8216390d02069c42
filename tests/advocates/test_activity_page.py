"""The portal's activity page (server-rendered): the member's level, ways to earn in plain
words (a streak among them), their timeline newest first with older pages, and what a member
without consent to social activity use sees instead of a level."""

from __future__ import annotations

import re

import pytest

from loyalty_social.advocates.models import ShareLink
from loyalty_social.extensions import db
from loyalty_social.rules.service import create_rule

from ..helpers import seed
from ..identity.conftest import PORTAL, PORTAL_SECRET, member_assertion
from .test_timeline import history

SETTINGS = {
    "PORTAL_SHARED_SECRET": PORTAL_SECRET,
    "PORTAL_RETURN_URLS": f"{PORTAL}/",
    "SHARE_LINK_TARGETS": "shop.example",
}
STREAK = {
    "streak": {
        "event_type": "community.milestone",
        "days": 7,
        "where": [{"field": "data.value", "op": "ge", "value": 8000}],
    }
}


@pytest.fixture
def portal_app(sqlite_config, make_app):
    app = make_app(sqlite_config | SETTINGS)
    app.config["SEEDED"] = seed(app, rules=(), scopes=("backend", "admin"))
    return app


def open_page(app, member_id="M-1", path="/portal/activity"):
    client = app.test_client()
    assert client.get(f"/portal/start?assertion={member_assertion(member_id)}").status_code == 303
    return client, client.get(path)


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def test_level_ways_to_earn_and_timeline(portal_app):
    history(portal_app)
    with portal_app.app_context():
        create_rule(
            {
                "name": "Step streak",
                "event_types": ["community.milestone"],
                "conditions": STREAK,
                "rewards": [{"kind": "fixed", "points": 100}],
                "limits": {"per_member": [{"period": "week", "count": 1}]},
            },
            actor="tests",
            status="active",
        )
    client, page = open_page(portal_app)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    words = text(html)
    assert 'id="level-name">Advocate<' in html
    assert "150 more to reach Champion" in words
    assert (
        "Step streak: 100 points for reaching a community milestone (on 7 days in a row: "
        "reaching a community milestone whose value is at least 8000; at most 1 award per week)"
        in words
    )
    assert "reviews pay: 5 points for publishing a review." in words
    entries = re.findall(r'<li data-kind="([a-z_]+)"><time datetime="([^"]+)"', html)
    assert len(entries) == 20
    assert [at for _, at in entries] == sorted((at for _, at in entries), reverse=True)
    pages = [words]
    while 'id="older"' in html:  # every older page, by its link
        older = re.search(r'id="older" href="([^"]+)"', html).group(1).replace("&amp;", "&")
        html = client.get(older).get_data(as_text=True)
        later = re.findall(r'<li data-kind="([a-z_]+)"><time datetime="([^"]+)"', html)
        assert later and later[0][1] <= entries[-1][1]
        entries += later
        pages.append(text(html))
    everything = " ".join(pages)
    assert len(pages) == 2
    assert "You became Advocate (advocate level)" in everything
    assert "You published a review" in everything and "You earned 5 points" in everything
    assert "You got early access: Early access" in everything
    assert "You allowed: " in everything and "You linked your x account as dana" in everything
    assert "Someone opened your share link lnk1 from social.test" in everything
    assert "(a repeat visit or a bot: not counted)" in everything
    assert client.get("/portal/activity?before=garbage").status_code == 400


def test_a_member_without_consent_sees_no_level_but_how_to_allow_it(portal_app):
    _, page = open_page(portal_app, "M-9")
    words = text(page.get_data(as_text=True))
    assert "Your social activity is not used for advocate levels." in words
    assert "Nothing yet." in words


def test_the_page_needs_a_portal_session(portal_app):
    assert portal_app.test_client().get("/portal/activity").status_code == 401


def test_share_links_with_their_clicks_and_the_form_that_makes_one(portal_app):
    history(portal_app)  # lnk1: six distinct people, one repeat
    with portal_app.app_context():
        db.session.get(ShareLink, "lnk1").clicks = 6  # the counter the click writer keeps
        db.session.commit()
    client, page = open_page(portal_app)
    html = page.get_data(as_text=True)
    assert re.search(r'id="link-lnk1" data-clicks="6"', html)
    assert "6 people opened it" in text(html)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    made = client.post(
        "/portal/share-links",
        data={"csrf_token": token, "url": "https://shop.example/p/9", "next": "/portal/activity"},
    )
    assert made.status_code == 303 and made.headers["Location"].endswith("/portal/activity")
    words = text(client.get("/portal/activity").get_data(as_text=True))
    assert "Your share link: " in words and "to https://shop.example/p/9" in words
    assert "0 people opened it" in words
    refused = client.post(
        "/portal/share-links",
        data={"csrf_token": token, "url": "https://elsewhere.test/", "next": "/portal/activity"},
    )
    assert refused.status_code == 422
