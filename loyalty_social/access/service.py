"""API keys with scopes: create, verify, revoke. Least privilege: each endpoint names one scope."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError

from .. import audit
from ..extensions import db
from ..ids import new_id
from ..timeutil import utcnow
from .models import ApiKey

# What each scope lets a caller do; "admin" holds every scope.
SCOPES = {
    "backend": "the loyalty backend: members' balances and ledgers, offers redemption",
    "marketer": "rules, offers, approvals, analytics",
    "read": "read-only member balances and ledgers",
    "care": "social care / CRM identity look-ups",
    "operator": "events, replays, deliveries",
    "metrics": "the Prometheus /metrics endpoint",
    "admin": "everything",
}


@dataclass(frozen=True)
class Principal:
    key_id: str
    name: str
    scopes: frozenset[str]

    def allows(self, scope: str) -> bool:
        return "admin" in self.scopes or scope in self.scopes


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


MAX_NAME = 200  # the column's width


class KeyRefused(ValueError):
    """A key that cannot be created as asked; ``field`` says which input is wrong."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def check_key(name: str, scopes: list[str]) -> str:
    """The name to store (trimmed), or ``KeyRefused`` naming the field at fault."""
    name = (name or "").strip()
    if not name:
        raise KeyRefused("name", "Give the key a name (who or what uses it).")
    if len(name) > MAX_NAME:
        raise KeyRefused("name", f"The name is at most {MAX_NAME} characters.")
    if any(ord(char) < 32 or ord(char) == 127 for char in name):
        raise KeyRefused("name", "The name cannot contain control characters (NUL, newlines).")
    if not scopes:
        raise KeyRefused("scopes", "Choose at least one scope.")
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise KeyRefused(
            "scopes", f"Unknown scopes {', '.join(unknown)}; choose from {', '.join(SCOPES)}."
        )
    return name


def create_key(name: str, scopes: list[str]) -> str:
    """Store a new key and return the full token (``<id>.<secret>``), the only time it exists.
    Audited (name and scopes, never the secret) in the same transaction."""
    name = check_key(name, scopes)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(
        id=new_id("key"),
        name=name,
        secret_hash=_digest(secret),
        scopes=sorted(set(scopes)),
        created_at=utcnow(),
    )
    db.session.add(key)
    audit.record(
        "apikey.created", target=("api_key", key.id), after={"name": name, "scopes": key.scopes}
    )
    db.session.commit()
    return f"{key.id}.{secret}"


def authenticate(token: str) -> Principal | None:
    key_id, _, secret = token.partition(".")
    if not key_id or not secret:
        return None
    key = db.session.get(ApiKey, key_id)
    if key is None or key.revoked_at is not None:
        return None
    if not hmac.compare_digest(key.secret_hash, _digest(secret)):
        return None
    principal = Principal(key.id, key.name, frozenset(key.scopes))
    _note_use(key.id)
    return principal


log = logging.getLogger(__name__)
_written: dict[str, float] = {}  # key id -> when (monotonic) this process last wrote its use
_written_lock = threading.Lock()


def _write_due(key_id: str) -> bool:
    """True once per KEY_LAST_USED_RESOLUTION per key in this process (and notes it now)."""
    now = time.monotonic()
    with _written_lock:
        last = _written.get(key_id)
        if last is not None and now - last < current_app.config["KEY_LAST_USED_RESOLUTION"]:
            return False
        if len(_written) > 10_000:
            _written.clear()
        _written[key_id] = now
        return True


def _note_use(key_id: str) -> None:
    """Record when a key was last used, at most once per resolution: a request costs no write.
    The write is its own short transaction and never fails the request. It runs before the
    view does anything, so the request's read transaction is ended first (on SQLite it holds
    the write lock, as the SourceCache's read does)."""
    session = db.session
    if session.new or session.dirty or session.deleted or not _write_due(key_id):
        return
    session.rollback()
    try:
        with db.engine.begin() as connection:
            connection.execute(
                update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=utcnow())
            )
    except SQLAlchemyError:
        log.warning("could not record the last use of API key %s", key_id, exc_info=True)


def revoke_key(key_id: str) -> bool:
    """Refuse the key from now on (its row stays, for the audit log); False when unknown."""
    key = db.session.get(ApiKey, key_id)
    if key is None:
        return False
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        audit.record("apikey.revoked", target=("api_key", key.id), before={"name": key.name})
    db.session.commit()
    return True


def list_keys() -> list[ApiKey]:
    return list(db.session.scalars(db.select(ApiKey).order_by(ApiKey.created_at)))


def get_key(key_id: str) -> ApiKey | None:
    return db.session.get(ApiKey, key_id)
