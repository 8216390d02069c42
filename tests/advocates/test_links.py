"""Share links: made only for allow-listed brand URLs, once per (member, URL); the redirect
adds UTM parameters and a referral cookie, and never redirects anywhere else."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from loyalty_social.advocates.link_cache import tracked_url
from loyalty_social.extensions import db

from .conftest import browser, flush_clicks, seeded

PROBLEM = "application/problem+json"


def make_link(client, auth, member="M-1", url="https://shop.example/p/1?color=red#top"):
    response = client.post(f"/api/v1/members/{member}/share-links", json={"url": url}, headers=auth)
    assert response.status_code == 200, response.json
    return response.json


def test_a_link_is_made_once_per_member_and_url(adv_client, adv_app):
    auth = seeded(adv_app)["auth"]
    first = make_link(adv_client, auth)
    again = make_link(adv_client, auth)
    other = make_link(adv_client, auth, member="M-2")
    assert first["created"] and not again["created"] and other["created"]
    assert again["code"] == first["code"] != other["code"]
    assert first["share_url"].endswith(f"/s/{first['code']}")
    listed = adv_client.get("/api/v1/members/M-1/share-links", headers=auth).json
    assert [item["code"] for item in listed["items"]] == [first["code"]]
    assert listed["items"][0]["clicks"] == 0


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.test/p/1",
        "https://shop.example.evil.test/p/1",  # a look-alike host
        "https://evil.test/?next=https://shop.example/",
        "http://shop.example/p/1",  # a bare host allows https only
        "https://shop.example:8443/p/1",
        "https://www.example.org/other/",  # outside the allowed path
    ],
)
def test_urls_off_the_allow_list_are_refused(adv_client, adv_app, url):
    auth = seeded(adv_app)["auth"]
    response = adv_client.post("/api/v1/members/M-1/share-links", json={"url": url}, headers=auth)
    assert response.status_code == 403  # well formed, not permitted
    assert response.mimetype == PROBLEM
    assert response.json["type"].endswith("/share-target-not-allowed")
    assert adv_client.get("/api/v1/members/M-1/share-links", headers=auth).json["items"] == []


def test_bad_bodies_are_refused_without_writing(adv_client, adv_app):
    auth = seeded(adv_app)["auth"]
    too_long = "https://shop.example/" + "a" * 2100
    for body in (
        {"url": "javascript:alert(1)"},
        {"url": "https://user@shop.example/p/1"},  # credentials in a URL: never
        {"url": 5},
        {},
        {"url": too_long},
        {"x": 1},
    ):
        response = adv_client.post("/api/v1/members/M-1/share-links", json=body, headers=auth)
        assert response.status_code == 422, body
        assert response.mimetype == PROBLEM
    nul = adv_client.post(
        "/api/v1/members/M-1/share-links", json={"url": "https://shop.example/\u0000"}, headers=auth
    )
    assert nul.status_code == 422
    assert adv_client.post("/api/v1/members/M-1/share-links", json={}).status_code == 401
    assert adv_client.get("/api/v1/members/M-1/share-links", headers=auth).json["items"] == []


def test_redirect_adds_utm_and_ref_and_keeps_the_query(adv_client, adv_app):
    auth = seeded(adv_app)["auth"]
    code = make_link(adv_client, auth, url="https://shop.example/p/1?color=red&utm_source=x#top")[
        "code"
    ]
    response = adv_client.get(f"/s/{code}", headers={"User-Agent": browser(120)})
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert (location.scheme, location.netloc, location.path) == ("https", "shop.example", "/p/1")
    assert location.fragment == "top"
    assert parse_qs(location.query) == {
        "color": ["red"],
        "utm_source": ["share"],
        "utm_medium": ["social"],
        "utm_campaign": ["advocate"],
        "ref": [code],
    }
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"ls_ref={code}.") and "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie and "Max-Age=2592000" in cookie


def test_unknown_malformed_and_disabled_codes_are_a_plain_404(adv_client, adv_app):
    auth = seeded(adv_app)["auth"]
    code = make_link(adv_client, auth)["code"]
    for path in ("/s/nosuchcode", "/s/", "/s/a/b", "/s/%2F%2Fevil.test", "/s/" + "a" * 40):
        response = adv_client.get(path)
        assert response.status_code == 404, path
        assert "Location" not in response.headers
        assert b"Link not found" in response.data
    assert adv_client.post(f"/s/{code}").status_code == 405
    disabled = adv_client.post(f"/api/v1/share-links/{code}/disable", headers=auth)
    assert disabled.status_code == 200 and disabled.json["disabled"]
    response = adv_client.get(f"/s/{code}")
    assert response.status_code == 404 and "Location" not in response.headers


def test_a_target_taken_off_the_allow_list_stops_redirecting(adv_config, make_app):
    app = make_app(adv_config)
    client = app.test_client()
    code = make_link(client, seeded(app)["auth"])["code"]
    narrowed = make_app({**adv_config, "SHARE_LINK_TARGETS": "https://www.example.org/campaign/"})
    response = narrowed.test_client().get(f"/s/{code}")
    assert response.status_code == 404 and "Location" not in response.headers


def test_tracked_url_replaces_our_parameters_only():
    url = tracked_url("https://shop.example/a?ref=old&x=1&utm_medium=email", "facebook", "C0de")
    assert url == (
        "https://shop.example/a?x=1&utm_source=facebook&utm_medium=social"
        "&utm_campaign=advocate&ref=C0de"
    )


def test_clicks_count_distinct_people_not_bots_or_repeats(adv_client, adv_app):
    auth = seeded(adv_app)["auth"]
    code = make_link(adv_client, auth)["code"]
    visitors = adv_app.test_client(use_cookies=False)  # each request its own browser

    def click(agent, address="198.51.100.7", method="GET", cookie=None, referrer=None):
        headers = {"User-Agent": agent}
        if cookie:
            headers["Cookie"] = cookie
        if referrer:
            headers["Referer"] = referrer
        return visitors.open(
            f"/s/{code}", method=method, headers=headers, environ_base={"REMOTE_ADDR": address}
        )

    first = click(browser(1), referrer="https://l.facebook.com/l.php?u=secret")
    click(browser(2), address="203.0.113.9")
    click(browser(1))  # the same visitor again: a repeat
    click(browser(3), cookie=first.headers["Set-Cookie"].split(";")[0])  # its cookie: a repeat
    for agent in (
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "Twitterbot/1.0",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "WhatsApp/2.23.20.0",
        "",
    ):
        response = click(agent)
        assert response.status_code == 302 and "Set-Cookie" not in response.headers
    head = click(browser(4), method="HEAD")
    assert head.status_code == 302
    flush_clicks(adv_app)
    link = adv_client.get("/api/v1/members/M-1/share-links", headers=auth).json["items"][0]
    assert (link["clicks"], link["bot_clicks"], link["repeat_clicks"]) == (2, 7, 2)
    assert link["last_click_at"] is not None
    with adv_app.app_context():
        rows = db.session.execute(db.text("SELECT * FROM share_click")).mappings().all()
    assert len(rows) == 11
    text = repr([dict(r) for r in rows])
    assert "198.51.100.7" not in text and "203.0.113.9" not in text  # no address is stored
    assert "Chrome" not in text  # nor the user agent
    assert {r["referrer_host"] for r in rows} == {"l.facebook.com", None}  # the host only
    assert {r["agent"] for r in rows} == {"desktop", "bot"}
