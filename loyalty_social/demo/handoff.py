"""The loyalty portal's part of the hand-off, played by the demo: a signed member assertion
(the JWT `identity/assertions.py` verifies) in a link that opens a portal session."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import current_app
from joserfc import jwt
from joserfc.jwk import OctKey

from ..ids import new_id
from ..timeutil import utcnow


class HandoffUnavailable(RuntimeError):
    """No shared secret to sign with (development generates one)."""


def portal_link(base_url: str, member_id: str) -> str:
    """A link that works once, within PORTAL_ASSERTION_MAX_AGE_SECONDS (a day in development)."""
    config = current_app.config
    if not config["PORTAL_SHARED_SECRET"]:
        raise HandoffUnavailable("PORTAL_SHARED_SECRET is not set: no portal link can be signed")
    now = int(utcnow().timestamp())
    claims = {
        "iss": config["PORTAL_ISSUER"],
        "aud": config["PORTAL_AUDIENCE"],
        "sub": member_id,
        "iat": now,
        "exp": now + config["PORTAL_ASSERTION_MAX_AGE_SECONDS"],
        "jti": new_id("jti"),
        # The demo member also signs in with a password, so a linked account can be unlinked.
        "social_only": False,
    }
    token = jwt.encode(
        {"alg": "HS256", "typ": "JWT"}, claims, OctKey.import_key(config["PORTAL_SHARED_SECRET"])
    )
    return f"{base_url.rstrip('/')}/portal/start?{urlencode({'assertion': token})}"
