"""Webhook sources: their secrets (encrypted) and public keys (ed25519, stored as is; several
of each at once for rotation) and rate limits (enforced by ``ratelimit``).

The request path reads sources through a short-lived per-process cache, so verifying a
webhook costs no database round trip; rotation and disabling take effect within
SOURCE_CACHE_SECONDS.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app

from .. import audit, crypto
from ..extensions import db
from ..ids import new_id
from ..timeutil import utcnow
from .catalogue import EVIDENCE_LEVELS
from .models import Source, SourcePublicKey, SourceSecret
from .signature import generate_secret
from .signature import public_key as parse_public_key


class SourceError(ValueError):
    """A source command cannot be carried out; the message says why, ``field`` which input
    (for a form to show it beside that field)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class SourceView:
    name: str
    max_evidence: str
    enabled: bool
    rate_limit: float
    rate_burst: int
    secrets: tuple[str, ...]
    public_keys: tuple[str, ...] = ()


def add_source(
    name: str,
    max_evidence: str = "verified",
    rate_limit: float | None = None,
    rate_burst: int | None = None,
    secret: str | None = None,
    public_key: str | None = None,
    with_secret: bool = True,
) -> str | None:
    """Create a source with a secret, a public key, or both; returns the secret (shown once),
    None when the source only has a public key."""
    if not name.replace("-", "").replace("_", "").isalnum() or len(name) > 64:
        raise SourceError("a source name is letters, digits, '-' and '_' (at most 64)", "name")
    if max_evidence not in EVIDENCE_LEVELS:
        raise SourceError(
            f"max evidence must be one of {', '.join(EVIDENCE_LEVELS)}", "max_evidence"
        )
    if rate_limit is not None and not 0 < rate_limit < float("inf"):
        raise SourceError("the rate limit is a number of requests per second above 0", "rate_limit")
    if rate_burst is not None and rate_burst < 1:
        raise SourceError("the burst is a whole number of requests, 1 or more", "rate_burst")
    if db.session.get(Source, name) is not None:
        raise SourceError(f"source {name!r} already exists", "name")
    _check_public_key(public_key)
    db.session.add(
        Source(
            name=name,
            max_evidence=max_evidence,
            enabled=True,
            rate_limit=rate_limit,
            rate_burst=rate_burst,
            created_at=utcnow(),
        )
    )
    if public_key:
        _add_public_key(name, public_key)
    if with_secret or not public_key:
        secret = secret or generate_secret()
        _add_secret(name, secret)
    else:
        secret = None
    audit.record(
        "source.created",
        target=("source", name),
        after={
            "max_evidence": max_evidence,
            "rate_limit": rate_limit,
            "rate_burst": rate_burst,
            "signing": ["secret"] * bool(secret) + ["public_key"] * bool(public_key),
        },
    )
    db.session.commit()
    return secret


def _check_public_key(value: str | None) -> None:
    if value is None:
        return
    try:
        parse_public_key(value)
    except ValueError as error:
        raise SourceError(str(error), "public_key") from None


def _add_public_key(name: str, value: str) -> None:
    db.session.add(
        SourcePublicKey(id=new_id("whk"), source_name=name, public_key=value, created_at=utcnow())
    )


def _add_secret(name: str, secret: str) -> None:
    db.session.add(
        SourceSecret(
            id=new_id("whs"),
            source_name=name,
            secret_encrypted=crypto.encrypt(secret),
            created_at=utcnow(),
        )
    )


def rotate_secret(name: str, grace_hours: float = 24.0) -> str:
    """Add a new secret; the current ones keep verifying for ``grace_hours`` more."""
    source = db.session.get(Source, name)
    if source is None:
        raise SourceError(f"no source {name!r}")
    expires = utcnow() + timedelta(hours=grace_hours)
    for existing in _live_secrets(name):
        if existing.expires_at is None or existing.expires_at > expires:
            existing.expires_at = expires
    secret = generate_secret()
    _add_secret(name, secret)
    audit.record(
        "source.secret_rotated", target=("source", name), after={"grace_hours": grace_hours}
    )
    db.session.commit()
    return secret


def rotate_public_key(name: str, new_key: str, grace_hours: float = 24.0) -> None:
    """Add a public key; the current ones keep verifying for ``grace_hours`` more."""
    if db.session.get(Source, name) is None:
        raise SourceError(f"no source {name!r}")
    _check_public_key(new_key)
    expires = utcnow() + timedelta(hours=grace_hours)
    for existing in _live(SourcePublicKey, name):
        if existing.expires_at is None or existing.expires_at > expires:
            existing.expires_at = expires
    _add_public_key(name, new_key)
    audit.record(
        "source.public_key_rotated", target=("source", name), after={"grace_hours": grace_hours}
    )
    db.session.commit()


def set_enabled(name: str, enabled: bool) -> None:
    """Accept a source's webhooks again, or refuse them (as an unknown source's are) within
    SOURCE_CACHE_SECONDS. Audited when it changes anything; a repeat writes nothing."""
    source = db.session.get(Source, name)
    if source is None:
        raise SourceError(f"no source {name!r}")
    before = source.enabled
    if before == enabled:
        db.session.rollback()
        return
    source.enabled = enabled
    audit.record(
        "source.enabled" if enabled else "source.disabled",
        target=("source", name),
        before={"enabled": before},
        after={"enabled": enabled},
    )
    db.session.commit()


def _live_secrets(name: str) -> list[SourceSecret]:
    return _live(SourceSecret, name)


def _live(model, name: str) -> list:
    """A source's secrets or public keys that have not expired, newest first."""
    now = utcnow()
    rows = db.session.scalars(
        db.select(model).where(model.source_name == name).order_by(model.created_at.desc())
    )
    return [row for row in rows if row.expires_at is None or row.expires_at > now]


def list_sources() -> list[dict]:
    return [
        {
            "name": source.name,
            "enabled": source.enabled,
            "max_evidence": source.max_evidence,
            "live_secrets": len(_live_secrets(source.name)),
            "live_public_keys": len(_live(SourcePublicKey, source.name)),
            "rate_limit": source.rate_limit,
            "rate_burst": source.rate_burst,
        }
        for source in db.session.scalars(db.select(Source).order_by(Source.name))
    ]


def current_secret(name: str) -> str:
    """The newest live secret of a source (for our own sender and the demo)."""
    live = _live_secrets(name)
    if not live:
        raise SourceError(f"source {name!r} has no live secret")
    return crypto.decrypt(live[0].secret_encrypted)


def any_source_configured() -> bool:
    return any(
        s["enabled"] and (s["live_secrets"] or s["live_public_keys"]) for s in list_sources()
    )


def load_source(name: str) -> SourceView | None:
    source = db.session.get(Source, name)
    if source is None:
        return None
    config = current_app.config
    return SourceView(
        name=source.name,
        max_evidence=source.max_evidence,
        enabled=source.enabled,
        rate_limit=source.rate_limit or config["WEBHOOK_RATE_LIMIT"],
        rate_burst=source.rate_burst or config["WEBHOOK_RATE_BURST"],
        secrets=tuple(crypto.decrypt(s.secret_encrypted) for s in _live_secrets(name)),
        public_keys=tuple(k.public_key for k in _live(SourcePublicKey, name)),
    )


class SourceCache:
    """Per-process cache of decrypted sources, refreshed after ``ttl`` seconds. One thread
    reloads an expired source while the others keep answering from the entry they have (at
    most one reload's time older), so an expiry under load is one query, not one per thread."""

    def __init__(self, ttl: float):
        self.ttl = ttl
        self._entries: dict[str, tuple[float, SourceView | None]] = {}
        self._lock = threading.Lock()
        self._reloading: set[str] = set()

    def get(self, name: str) -> SourceView | None:
        now = time.monotonic()
        entry = self._entries.get(name)
        if entry is not None and now - entry[0] < self.ttl:
            return entry[1]
        with self._lock:
            if entry is not None and name in self._reloading:
                return entry[1]
            self._reloading.add(name)
        try:
            view = load_source(name)
            db.session.rollback()  # end the read transaction; the request holds no other work
        finally:
            with self._lock:
                self._reloading.discard(name)
        with self._lock:
            if len(self._entries) > 1000:
                self._entries.clear()
            self._entries[name] = (now, view)
        return view
