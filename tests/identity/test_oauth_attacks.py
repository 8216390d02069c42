"""RFC 9700 defences, each against the real provider: state, PKCE, replay, nonce, mix-up."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlsplit

import requests
import sqlalchemy as sa

from loyalty_social.extensions import db

from .conftest import CLIENT_ID, Browser, with_query
from .test_linking import linked_events, linked_rows


def sub() -> str:
    return f"atk-{uuid.uuid4().hex[:10]}"


def test_authorization_request_has_pkce_s256_nonce_and_exact_redirect(id_app, oidc_provider):
    member = Browser(id_app, oidc_provider)
    member.arrive("M-req")
    query = parse_qs(urlsplit(member.start_link()).query)
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert query["nonce"][0] and len(query["state"][0]) >= 20
    assert query["redirect_uri"] == ["http://localhost/portal/oauth/mock/callback"]
    assert query["client_id"] == [CLIENT_ID]


def test_state_mismatch_is_refused(id_app, oidc_provider):
    member = Browser(id_app, oidc_provider)
    member.arrive("M-state")
    callback = member.authorize(member.start_link(), sub())
    refused = member.callback(with_query(callback, state="forged-state-value"))
    assert refused.status_code == 400
    assert "does not belong to this browser session" in refused.text
    assert linked_rows(id_app, "M-state") == []


def test_response_delivered_to_another_session_is_refused(id_app, oidc_provider):
    """Login CSRF / session swap: the victim's browser receives the attacker's response."""
    attacker, victim = Browser(id_app, oidc_provider), Browser(id_app, oidc_provider)
    attacker.arrive("M-attacker")
    victim.arrive("M-victim")
    subject = sub()
    callback = attacker.authorize(attacker.start_link(), subject)
    refused = victim.callback(callback)
    assert refused.status_code == 400 and "not started in this browser session" in refused.text
    assert refused.location is None  # no redirect onwards: the flow stopped here
    assert linked_rows(id_app, "M-victim") == [] and linked_rows(id_app, "M-attacker") == []
    assert linked_events(id_app, "M-victim") == [] and linked_events(id_app, "M-attacker") == []
    # The victim's session is untouched: still theirs, still with nothing linked.
    page = victim.page()
    assert page.status_code == 200 and "Linked as" not in page.text


def _handoff_form(response) -> bool:
    return '<form method="post" action=' in response.text


def test_signin_response_delivered_to_another_session_is_refused(id_app, oidc_provider):
    """Login CSRF on 'Sign in with ...': the attacker's response, opened in the victim's
    browser, must neither log the victim in as the attacker's member nor start a sign-up."""
    subject = sub()
    owner = Browser(id_app, oidc_provider)
    owner.arrive("M-csrf-owner")
    owner.link(subject)
    attacker, victim = Browser(id_app, oidc_provider), Browser(id_app, oidc_provider)
    callback = attacker.authorize(attacker.start_signin(), subject)
    refused = victim.callback(callback)
    assert refused.status_code == 400 and "not started in this browser session" in refused.text
    assert not _handoff_form(refused) and "assertion" not in refused.text
    # Even a victim with a sign-in of their own pending: the state is not theirs.
    victim.start_signin()
    refused = victim.callback(callback)
    assert refused.status_code == 400 and not _handoff_form(refused)
    # The attacker's own session could still use it: the refusal was about the session.
    assert _handoff_form(attacker.callback(callback))


def test_signup_response_delivered_to_another_session_is_refused(id_app, oidc_provider):
    attacker, victim = Browser(id_app, oidc_provider), Browser(id_app, oidc_provider)
    callback = attacker.authorize(attacker.start_signin(), sub())
    refused = victim.callback(callback)
    assert refused.status_code == 400 and not _handoff_form(refused)
    with id_app.app_context():
        tickets = db.session.execute(sa.text("SELECT count(*) FROM signup_ticket")).scalar()
    assert tickets == 0


def test_injected_code_without_its_pkce_verifier_is_refused(id_app, oidc_provider):
    """An attacker's code, injected with the victim's own valid state: the provider sees the
    victim's verifier, not the one the code was issued for, and refuses it."""
    attacker, victim = Browser(id_app, oidc_provider), Browser(id_app, oidc_provider)
    attacker.arrive("M-pkce-a")
    victim.arrive("M-pkce-v")
    stolen = parse_qs(urlsplit(attacker.authorize(attacker.start_link(), sub())).query)
    own = victim.authorize(victim.start_link(), sub())
    injected = victim.callback(with_query(own, code=stolen["code"][0]))
    assert injected.status_code == 400
    assert "refused to complete the sign-in" in injected.text
    assert linked_rows(id_app, "M-pkce-v") == []


def test_code_without_pkce_verifier_is_refused_by_the_provider(id_app, oidc_provider):
    """A code intercepted on its way back is useless without the verifier, which never left
    our server (it is not in the URL, the cookie or the page)."""
    member = Browser(id_app, oidc_provider)
    member.arrive("M-noverifier")
    callback = member.authorize(member.start_link(), sub())
    code = parse_qs(urlsplit(callback).query)["code"][0]
    token = requests.post(
        f"{oidc_provider}/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "http://localhost/portal/oauth/mock/callback",
            "client_id": CLIENT_ID,
            "client_secret": "test-client-secret",
        },
        timeout=10,
    )
    assert token.status_code == 400 and token.json()["error"] == "invalid_grant"
    assert "code_verifier" not in member.client.get_cookie("ls_portal").value


def test_replayed_authorization_response_is_refused(id_app, oidc_provider):
    member = Browser(id_app, oidc_provider)
    member.arrive("M-replay")
    link_url = member.start_link()
    captured_cookie = member.client.get_cookie("ls_portal").value
    callback = member.authorize(link_url, sub())
    assert member.callback(callback).status_code == 303
    # Same browser, same response again: the session no longer has that flow.
    again = member.callback(callback)
    assert again.status_code == 400
    # A replay with the session cookie captured before the first use: the flow is used up.
    replayer = Browser(id_app, oidc_provider)
    replayer.client.set_cookie("ls_portal", captured_cookie, domain="localhost")
    replayed = replayer.callback(callback)
    assert replayed.status_code == 400 and "already used" in replayed.text
    assert len(linked_rows(id_app, "M-replay")) == 1


def test_wrong_nonce_is_refused(id_app, oidc_provider):
    """The ID token must echo the nonce this session sent; one from another request fails."""
    member = Browser(id_app, oidc_provider)
    member.arrive("M-nonce")
    tampered = with_query(member.start_link(), nonce="attacker-chosen-nonce")
    refused = member.callback(member.authorize(tampered, sub()))
    assert refused.status_code == 400 and "ID token did not validate" in refused.text
    assert linked_rows(id_app, "M-nonce") == []


def test_response_for_another_provider_is_refused(id_app, oidc_provider):
    member = Browser(id_app, oidc_provider)
    member.arrive("M-mixup")
    callback = member.authorize(member.start_link(), sub())
    parts = urlsplit(callback)
    refused = member.client.get(f"/portal/oauth/other/callback?{parts.query}")
    assert refused.status_code == 400
    assert linked_rows(id_app, "M-mixup") == []


def test_cancelled_at_the_provider(id_app, oidc_provider):
    member = Browser(id_app, oidc_provider)
    member.arrive("M-deny")
    denied = requests.post(
        member.start_link(), data={"action": "deny"}, allow_redirects=False, timeout=10
    )
    response = member.callback(denied.headers["Location"])
    assert response.status_code == 400 and "cancelled or refused" in response.text
    assert linked_rows(id_app, "M-deny") == []


def test_forms_need_the_session_csrf_token(id_app, oidc_provider):
    member = Browser(id_app, oidc_provider)
    member.arrive("M-csrf")
    forged = member.client.post("/portal/connections/mock/link", data={"csrf_token": "nope"})
    assert forged.status_code == 400
