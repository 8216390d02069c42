"""The member assertion: a session only for a valid, fresh, unused assertion; safe returns."""

from __future__ import annotations

import time

import pytest

from .conftest import PORTAL, Browser, member_assertion


def has_session(browser: Browser) -> bool:
    return browser.page().status_code == 200


def test_valid_assertion_opens_a_session_and_returns_to_the_portal(id_app, oidc_provider):
    member = Browser(id_app, oidc_provider)
    arrived = member.arrive("M-1", return_to=f"{PORTAL}/account?tab=social")
    assert arrived.status_code == 303 and arrived.location.endswith("/portal/connections")
    cookie = arrived.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = member.page()
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    back = member.client.get("/portal/done")
    assert back.status_code == 303 and back.location == f"{PORTAL}/account?tab=social"
    assert not has_session(member)


def test_done_without_a_return_address_is_a_success_page(id_app, oidc_provider):
    member = Browser(id_app, oidc_provider)
    member.arrive("M-1", return_to=None)
    done = member.client.get("/portal/done")
    assert done.status_code == 200
    assert "All set" in done.text and "error-message" not in done.text
    assert not has_session(member)


@pytest.mark.parametrize(
    "claims, message",
    [
        ({"exp": int(time.time()) - 120, "iat": int(time.time()) - 150}, "expired"),
        ({"aud": "someone-else"}, "invalid"),
        ({"iss": "evil-portal"}, "invalid"),
        ({"jti": None}, "invalid"),
        ({"_secret": "not-the-shared-secret-but-long-enough-0123456789"}, "invalid"),
        ({"exp": int(time.time()) + 3600}, "too long"),
        ({"return_to": "https://evil.test/steal"}, "return address is not allowed"),
        ({"return_to": "https://portal.test.evil.test/"}, "return address is not allowed"),
        ({"return_to": "https://portal.test@evil.test/"}, "return address is not allowed"),
        ({"return_to": "//evil.test/"}, "return address is not allowed"),
        ({"return_to": "javascript:alert(1)"}, "return address is not allowed"),
    ],
    ids=[
        "expired",
        "audience",
        "issuer",
        "no-jti",
        "signature",
        "lifetime",
        "open-redirect",
        "lookalike-host",
        "userinfo-host",
        "scheme-relative",
        "javascript",
    ],
)
def test_bad_assertions_give_an_error_page_and_no_session(id_app, oidc_provider, claims, message):
    member = Browser(id_app, oidc_provider)
    refused = member.arrive("M-bad", **claims)
    assert refused.status_code == 401
    assert refused.mimetype == "text/html" and message in refused.text
    assert not has_session(member)


def test_replayed_assertion_is_refused_across_web_processes(id_config, make_app, oidc_provider):
    """The jti store is the database: a second app (another web process) refuses it too."""
    token = member_assertion("M-replay")
    first, second = make_app(id_config), make_app(id_config)
    assert (
        first.test_client().get("/portal/start", query_string={"assertion": token}).status_code
        == 303
    )
    replay = second.test_client()
    refused = replay.get("/portal/start", query_string={"assertion": token})
    assert refused.status_code == 401 and "already used" in refused.text
    assert replay.get("/portal/connections").status_code == 401


def test_our_login_assertion_is_not_accepted_as_a_member_assertion(id_app, oidc_provider):
    from loyalty_social.identity.assertions import login_assertion

    with id_app.test_request_context():
        ours = login_assertion("M-x", "mock")
    refused = id_app.test_client().get("/portal/start", query_string={"assertion": ours})
    assert refused.status_code == 401


def test_no_session_no_pages(id_app):
    client = id_app.test_client()
    assert client.get("/portal/connections").status_code == 401
    assert client.post("/portal/connections/mock/link").status_code in (400, 401)
