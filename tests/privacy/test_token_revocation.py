"""Erasure revokes a member's stored OAuth tokens at the provider (RFC 7009), against a real
HTTP revocation endpoint: each stored token is sent there with the client's credentials and
counted ``tokens_revoked``; when the endpoint refuses (503), is unreachable or hangs past the
timeout, the tokens are deleted all the same and counted ``tokens_revocation_failed``."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from loyalty_social import crypto
from loyalty_social.access.service import create_key
from loyalty_social.extensions import db
from loyalty_social.identity.models import SocialAccount

from ..identity.conftest import CLIENT_ID, Browser, identity_settings
from ..services import free_port

CLIENT_SECRET = "test-client-secret"  # identity_settings' OAUTH_MOCK_CLIENT_SECRET
MEMBER = "M-revoked"


class RevocationEndpoint:
    """A provider's RFC 7009 revocation endpoint (werkzeug, in a thread) that records every
    request: its form fields and the client authentication it carried."""

    def __init__(self, status: int = 200, hang_seconds: float = 0.0):
        self.status, self.hang_seconds = status, hang_seconds
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/oauth/revoke"
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", self.port, self._wsgi, threaded=True)
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    def _wsgi(self, environ, start_response):
        request = Request(environ)
        with self._lock:
            self.requests.append(
                {
                    "method": request.method,
                    "path": request.path,
                    "content_type": request.mimetype,
                    "authorization": request.headers.get("Authorization"),
                    "form": request.form.to_dict(),
                }
            )
        if self.hang_seconds:
            time.sleep(self.hang_seconds)
        return Response(status=self.status)(environ, start_response)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def revocation_app(make_app, stack_config, oidc_provider, revocation_url: str, **options):
    """The identity tests' app, its ``mock`` provider given a ``revocation_url``."""
    settings = identity_settings(oidc_provider, OAUTH_HTTP_TIMEOUT_SECONDS="1")
    providers = json.loads(settings["OAUTH_PROVIDERS"])
    providers["mock"] |= {"revocation_url": revocation_url, **options}
    settings["OAUTH_PROVIDERS"] = json.dumps(providers)
    return make_app(stack_config | settings)


def link_account(app, oidc_provider) -> tuple[dict, dict[str, str]]:
    """An admin key, and a member who linked an account through the real provider: the
    tokens stored for it, by kind."""
    with app.app_context():
        admin = create_key("admin", ["admin"])
        db.session.commit()
    browser = Browser(app, oidc_provider)
    browser.arrive(MEMBER)
    assert browser.link(f"revoked-{uuid.uuid4().hex[:8]}").status_code == 303
    with app.app_context():
        [account] = db.session.scalars(
            db.select(SocialAccount).where(SocialAccount.member_id == MEMBER)
        )
        stored = {
            hint: crypto.decrypt(value)
            for hint, value in (
                ("access_token", account.access_token_enc),
                ("refresh_token", account.refresh_token_enc),
            )
            if value
        }
        db.session.commit()
    assert "access_token" in stored
    return {"Authorization": f"Bearer {admin}"}, stored


def erase(app, auth) -> dict:
    response = app.test_client().post(f"/api/v1/members/{MEMBER}/erasure", headers=auth)
    assert response.status_code == 200, response.text
    assert response.json["removed_now"] is True
    return response.json["counts"]


def assert_tokens_gone(app, stored: dict[str, str]) -> None:
    with app.app_context():
        accounts = list(db.session.scalars(db.select(SocialAccount)))
        left = {
            crypto.decrypt(value)
            for account in accounts
            for value in (account.access_token_enc, account.refresh_token_enc)
            if value
        }
        db.session.commit()
    assert not [a for a in accounts if a.member_id == MEMBER]
    assert not left & set(stored.values())


def test_erasure_revokes_stored_tokens_at_the_provider(make_app, stack_config, oidc_provider):
    endpoint = RevocationEndpoint()
    try:
        app = revocation_app(make_app, stack_config, oidc_provider, endpoint.url)
        auth, stored = link_account(app, oidc_provider)
        assert endpoint.requests == []  # linking revokes nothing
        counts = erase(app, auth)
    finally:
        endpoint.stop()

    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert len(endpoint.requests) == len(stored)
    for request in endpoint.requests:
        assert request["method"] == "POST" and request["path"] == "/oauth/revoke"
        assert request["content_type"] == "application/x-www-form-urlencoded"
        assert request["authorization"] == f"Basic {basic}"  # client_secret_basic
        assert set(request["form"]) == {"token", "token_type_hint"}  # no secret in the body
    received = {r["form"]["token_type_hint"]: r["form"]["token"] for r in endpoint.requests}
    assert received == stored
    assert counts["identity.tokens_revoked"] == len(stored) > 0
    assert "identity.tokens_revocation_failed" not in counts
    assert "identity.tokens_unrevocable" not in counts
    assert counts["identity.social_accounts"] == 1
    assert_tokens_gone(app, stored)


def test_revocation_authenticates_as_the_provider_registered_us(make_app, pg_config, oidc_provider):
    """A provider registered for ``client_secret_post`` gets the credentials in the form."""
    endpoint = RevocationEndpoint()
    try:
        app = revocation_app(
            make_app,
            pg_config,
            oidc_provider,
            endpoint.url,
            token_endpoint_auth_method="client_secret_post",
        )
        auth, stored = link_account(app, oidc_provider)
        counts = erase(app, auth)
    finally:
        endpoint.stop()

    assert len(endpoint.requests) == len(stored)
    for request in endpoint.requests:
        assert request["authorization"] is None
        assert request["form"]["client_id"] == CLIENT_ID
        assert request["form"]["client_secret"] == CLIENT_SECRET
    received = {r["form"]["token_type_hint"]: r["form"]["token"] for r in endpoint.requests}
    assert received == stored
    assert counts["identity.tokens_revoked"] == len(stored)
    assert_tokens_gone(app, stored)


@pytest.mark.parametrize("failure", ["503", "unreachable", "hangs"])
def test_failed_revocation_still_deletes_the_tokens(
    make_app, stack_config, oidc_provider, caplog, failure
):
    endpoint = None
    if failure == "unreachable":
        url = f"http://127.0.0.1:{free_port()}/oauth/revoke"  # nothing listens there
    else:
        endpoint = RevocationEndpoint(503, 0.0) if failure == "503" else RevocationEndpoint(200, 5)
        url = endpoint.url
    try:
        app = revocation_app(make_app, stack_config, oidc_provider, url)
        auth, stored = link_account(app, oidc_provider)
        started = time.monotonic()
        counts = erase(app, auth)
        took = time.monotonic() - started
    finally:
        if endpoint:
            endpoint.stop()

    if endpoint:  # it was asked, for each token
        received = {r["form"]["token_type_hint"]: r["form"]["token"] for r in endpoint.requests}
        assert received == stored
    # OAUTH_HTTP_TIMEOUT_SECONDS=1 bounds each call: a hanging provider never holds erasure.
    assert took < len(stored) * 1 + 2.5, took
    assert counts["identity.tokens_revocation_failed"] == len(stored)
    assert "identity.tokens_revoked" not in counts
    assert counts["identity.social_accounts"] == 1
    assert_tokens_gone(app, stored)
    assert not [t for t in stored.values() if t in caplog.text]  # no token in the logs
