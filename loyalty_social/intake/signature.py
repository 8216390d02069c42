"""Standard Webhooks signatures (https://www.standardwebhooks.com/), checked on the raw body.

Signed content is ``{webhook-id}.{webhook-timestamp}.{body}``. The header may hold several
space-separated signatures: ``v1,<base64>`` is HMAC-SHA256 with the base64 key after
``whsec_`` (a secret we share with the sender); ``v1a,<base64>`` is ed25519, verified with the
sender's public key (``whpk_`` + base64 of the raw 32-byte key), so we never hold anything
that could sign. The sender keeps the private key (``whsk_`` + base64 of its 32-byte seed).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import time

from cryptography.exceptions import InvalidSignature

from ..webhook_signing import (
    PRIVATE_KEY_PREFIX,
    PUBLIC_KEY_PREFIX,
    SECRET_PREFIX,
    generate_keypair,
    generate_secret,
    private_key,
    public_key,
    sign,
    sign_asymmetric,
    signed_content,
)

# Signing lives in core (``webhook_signing``: delivery signs with it too); intake's modules
# and senders keep importing it from here.
__all__ = [
    "PRIVATE_KEY_PREFIX",
    "PUBLIC_KEY_PREFIX",
    "SECRET_PREFIX",
    "SignatureError",
    "generate_keypair",
    "generate_secret",
    "private_key",
    "public_key",
    "sign",
    "sign_asymmetric",
    "verify",
]
_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # ASCII digits only: int() would take "1_0", " 10"


class SignatureError(Exception):
    """Why a webhook failed verification (safe to tell the sender)."""


def verify(
    secrets_: list[str],
    headers,
    body: bytes,
    tolerance_seconds: int,
    now: float | None = None,
    public_keys: tuple[str, ...] = (),
) -> str:
    """Return the webhook id when any listed signature matches any current secret (``v1``)
    or public key (``v1a``)."""
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
    if not _TIMESTAMP.fullmatch(timestamp):
        raise SignatureError("webhook-timestamp is not an integer (seconds since epoch)")
    sent_at = int(timestamp)
    now = time.time() if now is None else now
    if sent_at < now - tolerance_seconds:
        raise SignatureError("webhook-timestamp is too old")
    if sent_at > now + tolerance_seconds:
        raise SignatureError("webhook-timestamp is in the future")
    offered: dict[str, list[str]] = {"v1": [], "v1a": []}
    for part in signatures.split(" "):
        version, _, value = part.partition(",")
        if value and version in offered:
            offered[version].append(value)
    if offered["v1"]:
        for secret in secrets_:
            expected = sign(secret, webhook_id, sent_at, body).split(",", 1)[1]
            if any(hmac.compare_digest(expected, candidate) for candidate in offered["v1"]):
                return webhook_id
    if offered["v1a"] and public_keys:
        content = signed_content(webhook_id, sent_at, body)
        for candidate in offered["v1a"]:
            try:
                signature = base64.b64decode(candidate, validate=True)
            except (ValueError, binascii.Error):
                continue
            for key in public_keys:
                try:
                    public_key(key).verify(signature, content)
                except InvalidSignature:
                    continue
                return webhook_id
    raise SignatureError("no signature matches")
