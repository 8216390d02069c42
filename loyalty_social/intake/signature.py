"""Standard Webhooks signatures (https://www.standardwebhooks.com/), checked on the raw body.

Signed content is ``{webhook-id}.{webhook-timestamp}.{body}``, HMAC-SHA256 with the base64 key
after ``whsec_``; the header may hold several space-separated ``v1,<base64>`` signatures.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
import time

SECRET_PREFIX = "whsec_"  # noqa: S105 - a format prefix, not a secret


class SignatureError(Exception):
    """Why a webhook failed verification (safe to tell the sender)."""


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


@functools.lru_cache(maxsize=256)  # decoded once per secret, not per request
def _key(secret: str) -> bytes:
    raw = secret.removeprefix(SECRET_PREFIX)
    try:
        return base64.b64decode(raw, validate=True)
    except ValueError:
        raise ValueError("a webhook secret is 'whsec_' followed by base64") from None


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for one secret."""
    content = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(
    secrets_: list[str],
    headers,
    body: bytes,
    tolerance_seconds: int,
    now: float | None = None,
) -> str:
    """Return the webhook id when any listed signature matches any current secret."""
    webhook_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    missing = [
        name
        for name, value in (
            ("webhook-id", webhook_id),
            ("webhook-timestamp", timestamp),
            ("webhook-signature", signatures),
        )
        if not value
    ]
    if missing:
        raise SignatureError(f"missing header(s): {', '.join(missing)}")
    if len(webhook_id) > 255:
        raise SignatureError("webhook-id is longer than 255 characters")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise SignatureError("webhook-timestamp is not an integer (seconds since epoch)") from None
    now = time.time() if now is None else now
    if sent_at < now - tolerance_seconds:
        raise SignatureError("webhook-timestamp is too old")
    if sent_at > now + tolerance_seconds:
        raise SignatureError("webhook-timestamp is in the future")
    offered = [
        part.split(",", 1)[1]
        for part in signatures.split(" ")
        if part.startswith("v1,") and len(part) > 3
    ]
    for secret in secrets_:
        expected = sign(secret, webhook_id, sent_at, body).split(",", 1)[1]
        if any(hmac.compare_digest(expected, candidate) for candidate in offered):
            return webhook_id
    raise SignatureError("no signature matches")
