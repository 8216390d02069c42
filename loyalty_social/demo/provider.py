"""The "Demo ID" OpenID Connect provider: oidc-provider-mock on loopback, in its own process.

`loyalty-social dev` starts it so a newcomer can link a social account without registering an
app anywhere; the test suite runs the same provider. oidc-provider-mock (0.3.x) accepts PKCE
parameters but does not check them, as an authorization server must (RFC 9700): ``RequirePkce``
makes it behave like Google or X do: an authorization request without an S256
``code_challenge`` is refused, and a code is redeemed only with the matching ``code_verifier``.

Run: ``python -m loyalty_social.demo.provider [--port N] [--exit-with-parent]``; it prints its
URL on the first line of stdout once it listens (port 0: a free one).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import io
import json
import logging
import os
import secrets
import sys
import threading
import time
import warnings
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import flask
import jinja2
import werkzeug.serving

# oidc-provider-mock imports authlib modules that announce their own deprecation on every
# start; a newcomer's terminal has no use for them.
with warnings.catch_warnings(record=True):
    from oidc_provider_mock import User, init_app

HOST = "127.0.0.1"  # loopback only: the demo provider signs anyone in
# One-click person on the provider's page; any other name can be typed in.
DEMO_USERS = (
    User(
        sub="dana",
        claims={
            "name": "Dana Demo",
            "preferred_username": "dana",
            "email": "dana@demo.invalid",
            "email_verified": True,
        },
    ),
)


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class RequirePkce:
    """WSGI wrapper: PKCE S256 required at /oauth2/authorize and checked at /oauth2/token."""

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


def provider_app(users=DEMO_USERS) -> RequirePkce:
    """The provider as a WSGI app, its pages labelled "Demo ID" and served without a CDN."""
    app = flask.Flask(__name__)
    # Our _base.html first (no CDN, the label), then the package's own pages.
    app.jinja_loader = jinja2.ChoiceLoader(
        [
            jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
            jinja2.PackageLoader("oidc_provider_mock", "templates"),
        ]
    )
    init_app(app, require_nonce=True, user_claims=users)
    # init_app turns on debug mode and Werkzeug's debugger: tracebacks are not for browsers.
    app.debug = False
    app.wsgi_app = getattr(app.wsgi_app, "app", app.wsgi_app)
    app.secret_key = secrets.token_bytes(16)
    return RequirePkce(app)


def _exit_with(parent: int) -> None:
    """Stop when the process that started us is gone, however it ended (even SIGKILL)."""
    while os.getppid() == parent:
        time.sleep(0.2)
    os._exit(0)


def serve(port: int = 0, users=DEMO_USERS, exit_with_parent: bool = False) -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = werkzeug.serving.make_server(HOST, port, provider_app(users), threaded=True)
    print(f"http://{HOST}:{server.server_port}", flush=True)
    if exit_with_parent:
        threading.Thread(target=_exit_with, args=(os.getppid(),), daemon=True).start()
        # The parent reads only the first line, then may exec another program.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    # Ctrl-C in the terminal reaches the whole process group: end quietly.
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The Demo ID OpenID Connect provider.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--exit-with-parent", action="store_true")
    args = parser.parse_args(argv)
    serve(args.port, exit_with_parent=args.exit_with_parent)


if __name__ == "__main__":
    main()
