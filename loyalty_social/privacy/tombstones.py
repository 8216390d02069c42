"""Keyed hashes of erased members' ids, and the one question every feature asks of them:
"is any of these members erased?" (one indexed query for a whole batch).

The key is ``ERASURE_KEY`` when set (recommended: it then survives a rotation of
``SECRET_KEY``), else derived from ``SECRET_KEY``.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import Flask, current_app
from sqlalchemy import select

from ..extensions import db
from .models import Tombstone

_LABEL = b"loyalty-social erasure tombstone v1"
_TABLE = Tombstone.__table__


class Tombstones:
    """The tombstone check bound to one app's key, for threads without an app context (the
    intake committer): ``erased(connection, member_ids)``."""

    def __init__(self, app: Flask):
        secret = app.config.get("ERASURE_KEY") or app.config["SECRET_KEY"]
        self._key = hmac.new(secret.encode(), _LABEL, hashlib.sha256).digest()

    def hash(self, member_id: str) -> str:
        return hmac.new(self._key, member_id.encode(), hashlib.sha256).hexdigest()

    def erased(self, connection, member_ids) -> set[str]:
        hashes = {self.hash(m): m for m in set(member_ids)}
        if not hashes:
            return set()
        query = select(_TABLE.c.member_hash).where(_TABLE.c.member_hash.in_(sorted(hashes)))
        return {hashes[h] for h in connection.execute(query).scalars()}


def _bound() -> Tombstones:
    found = current_app.extensions.get("loyalty_social.privacy.tombstones")
    if found is None:
        found = current_app.extensions["loyalty_social.privacy.tombstones"] = Tombstones(
            current_app
        )
    return found


def member_hash(member_id: str) -> str:
    """HMAC-SHA256 of the member id: equal for the same id, useless without the key."""
    return _bound().hash(member_id)


def erased_among(member_ids, connection=None) -> set[str]:
    """Which of these member ids are erased (one query; none asked, none read)."""
    return _bound().erased(connection or db.session, member_ids)


def is_erased(member_id: str) -> bool:
    return bool(erased_among([member_id]))
