"""Single sign-on to the console through a real OpenID Connect provider process
(oidc-provider-mock, PKCE enforced): a verified email signs in the console user who has it;
nobody else gets in, and SSO never creates a user."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import pytest
import requests

from loyalty_social.console.models import ConsoleSession
from loyalty_social.extensions import db

from ..identity.conftest import identity_settings, oidc_provider, set_provider_user  # noqa: F401
from .conftest import PEOPLE, ConsoleClient, add_people


@pytest.fixture
def sso_app(stack_config, oidc_provider, make_app):  # noqa: F811
    app = make_app(stack_config | identity_settings(oidc_provider, CONSOLE_SSO_PROVIDERS="mock"))
    add_people(app)
    return app


def sign_in_at_provider(app, provider_url: str, browser: ConsoleClient, **claims):
    subject = f"sso-{uuid.uuid4().hex[:8]}"
    set_provider_user(provider_url, subject, **claims)
    login_page = browser.get("/console/login").text
    assert "Sign in with Mock ID" in login_page
    started = browser.post("/console/sso/mock", page="/console/login")
    assert started.status_code == 303 and started.location.startswith(provider_url)
    answer = requests.post(
        started.location, data={"sub": subject}, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 302, answer.text
    callback = urlsplit(answer.headers["Location"])
    assert callback.path == "/console/sso/mock/callback"
    return browser.get(f"{callback.path}?{callback.query}")


def test_a_verified_email_signs_in_its_console_user(sso_app, oidc_provider):  # noqa: F811
    browser = ConsoleClient(sso_app)
    done = sign_in_at_provider(
        sso_app, oidc_provider, browser, email=PEOPLE["approver"].upper(), email_verified=True
    )
    assert done.status_code == 303 and done.location == "/console/"
    assert PEOPLE["approver"] in browser.get("/console/").text
    with sso_app.app_context():
        assert db.session.scalars(db.select(ConsoleSession)).one().via == "sso:mock"


def test_an_unknown_or_unverified_email_is_refused(sso_app, oidc_provider):  # noqa: F811
    stranger = sign_in_at_provider(
        sso_app,
        oidc_provider,
        ConsoleClient(sso_app),
        email="stranger@example.test",
        email_verified=True,
    )
    assert stranger.status_code == 403 and "No console user" in stranger.text
    unverified = sign_in_at_provider(
        sso_app, oidc_provider, ConsoleClient(sso_app), email=PEOPLE["admin"], email_verified=False
    )
    assert unverified.status_code == 403
    with sso_app.app_context():
        assert db.session.scalars(db.select(ConsoleSession)).all() == []


def test_a_replayed_or_foreign_response_is_refused(sso_app, oidc_provider):  # noqa: F811
    browser = ConsoleClient(sso_app)
    subject = f"sso-{uuid.uuid4().hex[:8]}"
    set_provider_user(oidc_provider, subject, email=PEOPLE["admin"], email_verified=True)
    started = browser.post("/console/sso/mock", page="/console/login")
    answer = requests.post(
        started.location, data={"sub": subject}, allow_redirects=False, timeout=10
    )
    callback = urlsplit(answer.headers["Location"])
    url = f"{callback.path}?{callback.query}"
    thief = ConsoleClient(sso_app)  # another browser cannot use this response
    assert thief.get(url).status_code == 400
    assert browser.get(url).status_code == 303
    assert ConsoleClient(sso_app).get(url).status_code == 400  # nor a replay


def test_only_the_configured_providers_are_offered(sso_app):
    browser = ConsoleClient(sso_app)
    assert browser.post("/console/sso/google", page="/console/login").status_code == 404
