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
import functools
import hashlib
import hmac
import re
import secrets
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

SECRET_PREFIX = "whsec_"  # noqa: S105 - a format prefix, not a secret
PUBLIC_KEY_PREFIX = "whpk_"
PRIVATE_KEY_PREFIX = "whsk_"
_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # ASCII digits only: int() would take "1_0", " 10"


class SignatureError(Exception):
    """Why a webhook failed verification (safe to tell the sender)."""


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def generate_keypair() -> tuple[str, str]:
    """A new ed25519 ``(whsk_..., whpk_...)`` pair for a sender that signs with ``v1a``."""
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes_raw()
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return (
        PRIVATE_KEY_PREFIX + base64.b64encode(seed).decode(),
        PUBLIC_KEY_PREFIX + base64.b64encode(public).decode(),
    )


def _decode(value: str, prefix: str, what: str) -> bytes:
    if not value.startswith(prefix):
        raise ValueError(f"a webhook {what} is {prefix!r} followed by base64")
    try:
        return base64.b64decode(value.removeprefix(prefix), validate=True)
    except (ValueError, binascii.Error):
        raise ValueError(f"a webhook {what} is {prefix!r} followed by base64") from None


@functools.lru_cache(maxsize=256)  # decoded once per secret, not per request
def _key(secret: str) -> bytes:
    raw = secret.removeprefix(SECRET_PREFIX)
    try:
        return base64.b64decode(raw, validate=True)
    except ValueError:
        raise ValueError("a webhook secret is 'whsec_' followed by base64") from None


@functools.lru_cache(maxsize=256)
def public_key(value: str) -> Ed25519PublicKey:
    """A ``whpk_...`` public key (raises ValueError when it is not one)."""
    raw = _decode(value, PUBLIC_KEY_PREFIX, "public key")
    if len(raw) != 32:
        raise ValueError("a webhook public key is 32 bytes (ed25519), base64 after 'whpk_'")
    return Ed25519PublicKey.from_public_bytes(raw)


def private_key(value: str) -> Ed25519PrivateKey:
    """A ``whsk_...`` private key: the 32-byte seed, or libsodium's 64-byte seed + public."""
    raw = _decode(value, PRIVATE_KEY_PREFIX, "private key")
    if len(raw) not in (32, 64):
        raise ValueError("a webhook private key is a 32-byte ed25519 seed, base64 after 'whsk_'")
    return Ed25519PrivateKey.from_private_bytes(raw[:32])


def _content(webhook_id: str, timestamp: int, body: bytes) -> bytes:
    return f"{webhook_id}.{timestamp}.".encode() + body


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for one secret."""
    digest = hmac.new(_key(secret), _content(webhook_id, timestamp, body), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def sign_asymmetric(key: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value (``v1a``) for one ``whsk_`` private key."""
    signature = private_key(key).sign(_content(webhook_id, timestamp, body))
    return "v1a," + base64.b64encode(signature).decode()


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
        content = _content(webhook_id, sent_at, body)
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
