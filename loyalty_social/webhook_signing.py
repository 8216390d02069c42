"""Standard Webhooks signing (https://www.standardwebhooks.com/): secrets and keys, and the
``webhook-signature`` values over ``{webhook-id}.{webhook-timestamp}.{body}``: ``v1,<base64>``
is HMAC-SHA256 with the base64 key after ``whsec_``; ``v1a,<base64>`` is ed25519 with a
``whsk_`` private key (its ``whpk_`` public key verifies it).

Core, because both directions use it: intake verifies what senders signed
(``intake.signature``), delivery signs what we send to subscribers (``delivery.adapters``).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import secrets

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

SECRET_PREFIX = "whsec_"  # noqa: S105 - a format prefix, not a secret
PUBLIC_KEY_PREFIX = "whpk_"
PRIVATE_KEY_PREFIX = "whsk_"


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


def signed_content(webhook_id: str, timestamp: int, body: bytes) -> bytes:
    return f"{webhook_id}.{timestamp}.".encode() + body


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for one secret."""
    digest = hmac.new(
        _key(secret), signed_content(webhook_id, timestamp, body), hashlib.sha256
    ).digest()
    return "v1," + base64.b64encode(digest).decode()


def sign_asymmetric(key: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value (``v1a``) for one ``whsk_`` private key."""
    signature = private_key(key).sign(signed_content(webhook_id, timestamp, body))
    return "v1a," + base64.b64encode(signature).decode()
