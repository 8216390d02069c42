"""The portal's activity page (server-rendered): the member's level, ways to earn in plain
words (a streak among them), their timeline newest first with older pages, and what a member
without consent to social activity use sees instead of a level."""

from __future__ import annotations

import re

import pytest

from loyalty_social.rules.service import create_rule

from ..helpers import seed
from ..identity.conftest import PORTAL, PORTAL_SECRET, member_assertion
from .test_timeline import history

SETTINGS = {"PORTAL_SHARED_SECRET": PORTAL_SECRET, "PORTAL_RETURN_URLS": f"{PORTAL}/"}
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
