"""Encryption at rest for secrets we must be able to read back (source secrets, OAuth tokens).

ENCRYPTION_KEYS is a comma-separated list of Fernet keys: the first encrypts, all decrypt, so a
key is rotated by putting a new one first and running ``loyalty-social keys reencrypt``.
"""

from cryptography.fernet import Fernet, MultiFernet
from flask import current_app


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
