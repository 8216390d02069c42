"""A real OpenID Connect provider for the identity tests: oidc-provider-mock, enforcing PKCE.

oidc-provider-mock (0.3.x) accepts PKCE parameters but does not check them; RFC 9700 wants an
authorization server to. This WSGI wrapper makes it behave like Google or X do: an
authorization request without an S256 ``code_challenge`` is refused, and a code is redeemed
only with the matching ``code_verifier``. Run: ``python -m tests.identity.oidc_provider PORT``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sys
import threading
from urllib.parse import parse_qs, urlsplit

import werkzeug.serving
from oidc_provider_mock import app as provider_app


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class RequirePkce:
    def __init__(self, app):
        self.app = app
        self.challenges: dict[str, str] = {}
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/oauth2/authorize":
            query = parse_qs(environ.get("QUERY_STRING", ""))
            challenge = query.get("code_challenge", [""])[0]
            if not challenge or query.get("code_challenge_method", [""])[0] != "S256":
                return self._error(start_response, "invalid_request", "PKCE S256 is required")

            def remember(status, headers, exc_info=None):
                location = dict(headers).get("Location", "")
                code = parse_qs(urlsplit(location).query).get("code", [None])[0]
                if code:
                    with self.lock:
                        self.challenges[code] = challenge
                return start_response(status, headers, exc_info)

            return self.app(environ, remember)
        if path == "/oauth2/token" and environ.get("REQUEST_METHOD") == "POST":
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
            form = parse_qs(body.decode())
            if form.get("grant_type") == ["authorization_code"]:
                with self.lock:
                    challenge = self.challenges.pop(form.get("code", [""])[0], None)
                verifier = form.get("code_verifier", [""])[0]
                if challenge is None or not verifier or _s256(verifier) != challenge:
                    return self._error(start_response, "invalid_grant", "PKCE check failed")
        return self.app(environ, start_response)

    @staticmethod
    def _error(start_response, error: str, description: str):
        body = json.dumps({"error": error, "error_description": description}).encode()
        start_response("400 BAD REQUEST", [("Content-Type", "application/json")])
        return [body]


def main(port: int) -> None:
    app = RequirePkce(provider_app(require_nonce=True))
    werkzeug.serving.run_simple("127.0.0.1", port, app, threaded=True)


if __name__ == "__main__":
    main(int(sys.argv[1]))
