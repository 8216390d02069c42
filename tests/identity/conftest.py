"""Identity fixtures: a real OpenID Connect provider process, and portal/member helpers."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import uuid
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import OctKey

from ..conftest import ROOT
from ..services import free_port, wait_for_port

PORTAL_SECRET = "portal-shared-secret-for-tests-only-0123456789"
PORTAL = "https://portal.test"
CLIENT_ID = "loyalty-social-test"


@pytest.fixture(scope="session")
def oidc_provider():
    """oidc-provider-mock on loopback, in its own process, enforcing PKCE (see
    tests/identity/oidc_provider.py). Each test uses its own subjects, so one serves all."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.identity.oidc_provider", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, 30)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


def identity_settings(issuer: str, **extra) -> dict:
    providers = {
        "mock": {
            "kind": "oidc",
            "label": "Mock ID",
            "server_metadata_url": f"{issuer}/.well-known/openid-configuration",
            "scope": "openid profile email",
            "store_tokens": True,
        }
    }
    return {
        "PORTAL_SHARED_SECRET": PORTAL_SECRET,
        "PORTAL_RETURN_URLS": f"{PORTAL}/",
        "PORTAL_LOGIN_URL": f"{PORTAL}/sso/login",
        "PORTAL_SIGNUP_URL": f"{PORTAL}/sso/signup",
        "OAUTH_PROVIDERS": json.dumps(providers),
        "OAUTH_MOCK_CLIENT_ID": CLIENT_ID,
        "OAUTH_MOCK_CLIENT_SECRET": "test-client-secret",
        **extra,
    }


@pytest.fixture
def id_config(stack_config, oidc_provider):
    return stack_config | identity_settings(oidc_provider)


@pytest.fixture
def id_app(id_config, make_app):
    return make_app(id_config)


def member_assertion(member_id: str, **claims) -> str:
    secret = claims.pop("_secret", PORTAL_SECRET)
    now = int(time.time())
    payload = {
        "iss": "loyalty-portal",
        "aud": "loyalty-social",
        "sub": member_id,
        "iat": now,
        "exp": now + 60,
        "jti": uuid.uuid4().hex,
        "social_only": False,
        "return_to": f"{PORTAL}/account",
    }
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode({"alg": "HS256", "typ": "JWT"}, payload, OctKey.import_key(secret))


def decode_ours(token: str) -> jwt.Token:
    return jwt.decode(token, OctKey.import_key(PORTAL_SECRET), algorithms=["HS256"])


class Browser:
    """A member's browser without a browser: Flask's test client for our pages (its cookie
    jar is the session), ``requests`` for the provider's login page."""

    def __init__(self, app, provider_url: str):
        self.app = app
        self.client = app.test_client()
        self.provider_url = provider_url

    def arrive(self, member_id: str, **claims):
        return self.client.get(
            "/portal/start", query_string={"assertion": member_assertion(member_id, **claims)}
        )

    def page(self, path: str = "/portal/connections"):
        return self.client.get(path)

    def csrf(self, path: str = "/portal/connections") -> str:
        return re.search(r'name="csrf_token" value="([^"]+)"', self.page(path).text).group(1)

    def start_link(self, provider: str = "mock") -> str:
        response = self.client.post(
            f"/portal/connections/{provider}/link", data={"csrf_token": self.csrf()}
        )
        assert response.status_code == 303, response.text
        return response.location

    def start_signin(self, provider: str = "mock") -> str:
        response = self.client.post(
            f"/portal/signin/{provider}", data={"csrf_token": self.csrf("/portal/signin")}
        )
        assert response.status_code == 303, response.text
        return response.location

    def authorize(self, authorize_url: str, subject: str) -> str:
        """Log in at the provider as ``subject``; return where it sends the browser."""
        response = requests.post(
            authorize_url, data={"sub": subject}, allow_redirects=False, timeout=10
        )
        assert response.status_code == 302, response.text
        return response.headers["Location"]

    def callback(self, url: str):
        parts = urlsplit(url)
        return self.client.get(f"{parts.path}?{parts.query}")

    def link(self, subject: str, provider: str = "mock"):
        return self.callback(self.authorize(self.start_link(provider), subject))

    def unlink(self, provider: str = "mock"):
        return self.client.post(
            f"/portal/connections/{provider}/unlink", data={"csrf_token": self.csrf()}
        )


def with_query(url: str, **changes) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def set_provider_user(provider_url: str, subject: str, **claims) -> None:
    response = requests.put(f"{provider_url}/users/{subject}", json=claims, timeout=10)
    assert response.status_code == 204, response.text
