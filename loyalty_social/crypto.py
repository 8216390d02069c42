"""Encryption at rest for secrets we must be able to read back (source secrets, OAuth tokens),
and keyed hashes of what we must recognise but not keep.

ENCRYPTION_KEYS is a comma-separated list of Fernet keys: the first encrypts, all decrypt, so a
key is rotated by putting a new one first and running ``loyalty-social keys reencrypt``.
"""

import hashlib
import hmac

from cryptography.fernet import Fernet, MultiFernet
from flask import current_app

# Derives the key of identity hashes from SECRET_KEY (rotating SECRET_KEY forgets them).
_IDENTITY_KEY_LABEL = b"loyalty-social identity hash v1"


def _fernet() -> MultiFernet:
    cached = current_app.extensions.get("loyalty_social.fernet")
    if cached is None:
        keys = [k.strip() for k in current_app.config["ENCRYPTION_KEYS"].split(",") if k.strip()]
        if not keys:
            raise RuntimeError("ENCRYPTION_KEYS is not set")
        cached = MultiFernet([Fernet(k) for k in keys])
        current_app.extensions["loyalty_social.fernet"] = cached
    return cached


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()


def reencrypt(token: str) -> str:
    """Re-encrypt under the first (newest) key."""
    return _fernet().rotate(token.encode()).decode()


def identity_hash(provider: str, subject: str) -> str:
    """A keyed hash (HMAC-SHA256) of a social identity: equal for the same identity, useless
    without the server's key, so it can be kept where the identity itself may not."""
    key = hmac.new(
        current_app.config["SECRET_KEY"].encode(), _IDENTITY_KEY_LABEL, hashlib.sha256
    ).digest()
    return hmac.new(key, f"{provider}\n{subject}".encode(), hashlib.sha256).hexdigest()
