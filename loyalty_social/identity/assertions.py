"""Signed assertions between the loyalty portal and us, and the return-URL allow-list.

In: the portal's *member assertion* (a JWT: HS256 with the shared secret, or RS256/ES256 with
the portal's key set) opens a portal session. It must name us as audience, the portal as
issuer, carry a ``jti`` and live at most PORTAL_ASSERTION_MAX_AGE_SECONDS; each ``jti`` is
accepted once, remembered in the database so every web process agrees.

Out: our *login* and *sign-up* assertions hand a social sign-in back to the portal, HS256 with
the same shared secret but issuer and audience swapped and an explicit ``typ``, so neither side
can replay the other's token as its own (RFC 8725 3.11-3.12).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OctKey

from ..extensions import db
from ..ids import new_id
from ..sql import insert_ignoring_duplicates
from ..timeutil import utcnow
from .models import UsedAssertion

LEEWAY_SECONDS = 30
MEMBER_TYP = "member+jwt"
LOGIN_TYP = "login+jwt"
SIGNUP_TYP = "signup+jwt"


class AssertionRefused(ValueError):
    """The assertion is refused; the message is safe to show to the member."""


@dataclass(frozen=True)
class MemberAssertion:
    member_id: str
    social_only: bool
    return_to: str | None
    signup_ticket: str | None


def _keys():
    config = current_app.config
    if config["PORTAL_JWKS"]:
        return KeySet.import_key_set(json.loads(config["PORTAL_JWKS"])), ["RS256", "ES256"]
    if config["PORTAL_SHARED_SECRET"]:
        return OctKey.import_key(config["PORTAL_SHARED_SECRET"]), ["HS256"]
    raise AssertionRefused("The portal hand-off is not configured.")


def verify_member_assertion(token: str) -> MemberAssertion:
    """Check signature, issuer, audience, lifetime and one-time ``jti``; flushes the jti."""
    config = current_app.config
    key, algorithms = _keys()
    try:
        decoded = jwt.decode(token, key, algorithms=algorithms)
    except (JoseError, ValueError) as error:
        raise AssertionRefused("The sign-in link is invalid.") from error
    claims = decoded.claims
    registry = jwt.JWTClaimsRegistry(
        leeway=LEEWAY_SECONDS,
        iss={"essential": True, "value": config["PORTAL_ISSUER"]},
        aud={"essential": True, "value": config["PORTAL_AUDIENCE"]},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        jti={"essential": True},
    )
    try:
        registry.validate(claims)
    except JoseError as error:
        if "expired" in str(error).lower() or getattr(error, "claim", "") == "exp":
            raise AssertionRefused("The sign-in link has expired.") from error
        raise AssertionRefused("The sign-in link is invalid.") from error
    if decoded.header.get("typ") not in (None, "JWT", MEMBER_TYP):
        raise AssertionRefused("The sign-in link is invalid.")
    lifetime = int(claims["exp"]) - int(claims["iat"])
    if lifetime > config["PORTAL_ASSERTION_MAX_AGE_SECONDS"]:
        raise AssertionRefused("The sign-in link lives too long to be accepted.")
    if not isinstance(claims["sub"], str) or not 0 < len(claims["sub"]) <= 128:
        raise AssertionRefused("The sign-in link is invalid.")
    return_to = claims.get("return_to")
    if return_to is not None and not is_allowed_return_url(return_to):
        raise AssertionRefused("The return address is not allowed.")
    _use_once(str(claims["iss"]), str(claims["jti"]), int(claims["exp"]))
    return MemberAssertion(
        member_id=claims["sub"],
        # Fails closed: only an explicit "social_only": false says the member has another
        # way in (a password at the loyalty portal); anything else keeps their last link.
        social_only=claims.get("social_only") is not False,
        return_to=return_to,
        signup_ticket=claims.get("signup_ticket"),
    )


def _use_once(issuer: str, jti: str, exp: int) -> None:
    """Remember the jti until it could no longer verify; a second use is a replay."""
    from datetime import UTC, datetime

    key = hashlib.sha256(f"{issuer}\x00{jti}".encode()).hexdigest()
    expires = datetime.fromtimestamp(exp, UTC) + timedelta(seconds=LEEWAY_SECONDS)
    inserted = insert_ignoring_duplicates(
        db.session.connection(),
        UsedAssertion.__table__,
        [{"key": key, "expires_at": expires}],
        ["key"],
    )
    if not inserted:
        raise AssertionRefused("The sign-in link was already used.")


def purge_used_assertions() -> int:
    result = db.session.execute(db.delete(UsedAssertion).where(UsedAssertion.expires_at < utcnow()))
    return result.rowcount or 0


def is_allowed_return_url(url: str) -> bool:
    """Exact match, or below an allow-listed entry ending in "/" on the same origin.

    Parsed, never prefix-matched as text: "https://portal.example.evil.test" or
    "https://portal.example@evil.test" must not pass for "https://portal.example".
    """
    if not isinstance(url, str) or len(url) > 2048 or "\\" in url or any(c < " " for c in url):
        return False
    try:
        target = urlsplit(url)
    except ValueError:
        return False
    if target.scheme not in ("https", "http") or not target.hostname or "@" in target.netloc:
        return False
    for entry in current_app.config["PORTAL_RETURN_URLS"].split(","):
        entry = entry.strip()
        if not entry:
            continue
        allowed = urlsplit(entry)
        same_origin = (
            allowed.scheme == target.scheme
            and allowed.hostname == target.hostname
            and allowed.port == target.port
        )
        if not same_origin:
            continue
        if url == entry:
            return True
        below = allowed.path.endswith("/") and target.path.startswith(allowed.path)
        if below and ".." not in target.path.split("/"):
            return True
    return False


def _issue(typ: str, claims: dict) -> str:
    config = current_app.config
    if not config["PORTAL_SHARED_SECRET"]:
        raise AssertionRefused("The portal hand-off is not configured.")
    now = int(utcnow().timestamp())
    payload = {
        "iss": config["PORTAL_AUDIENCE"],
        "aud": config["PORTAL_ISSUER"],
        "iat": now,
        "exp": now + config["LOGIN_ASSERTION_SECONDS"],
        "jti": new_id("jti"),
        **claims,
    }
    return jwt.encode(
        {"alg": "HS256", "typ": typ}, payload, OctKey.import_key(config["PORTAL_SHARED_SECRET"])
    )


def login_assertion(member_id: str, provider: str) -> str:
    """Tells the portal: this member just proved control of a linked social account."""
    return _issue(LOGIN_TYP, {"sub": member_id, "provider": provider})


def signup_assertion(
    ticket_id: str, provider: str, profile: dict, referral_code: str | None = None
) -> str:
    """Tells the portal: a new person proved this social identity; create the member, then
    send them back with ``signup_ticket`` in the member assertion to link it. With
    ``referral_code`` (the visitor's share-link referral cookie), the portal's
    ``member.signed_up`` event should carry it back, so the sharer is credited."""
    claims = {
        "sub": f"{provider}:{profile['subject']}",
        "signup_ticket": ticket_id,
        "provider": provider,
        "profile": profile,
    }
    if referral_code:
        claims["referral_code"] = referral_code
    return _issue(SIGNUP_TYP, claims)
