"""The visitor of a click, without keeping who it was: a keyed HMAC of the address and user
agent, under a key derived from SECRET_KEY and the UTC date. The same visitor has the same
hash all day (repeat clicks, conversions), and a different one tomorrow; without the server's
key it says nothing. The address itself is never stored or logged."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

_LABEL = b"loyalty-social click visitor v1"
VISITOR_CHARS = 32


class VisitorHasher:
    def __init__(self, secret_key: str, trusted_proxies: int = 0):
        self.base = hmac.new(secret_key.encode(), _LABEL, hashlib.sha256).digest()
        self.trusted_proxies = trusted_proxies
        self._day: date | None = None
        self._key = b""

    def key(self, day: date) -> bytes:
        if day != self._day:  # a race here computes the same key twice: harmless
            self._key = hmac.new(self.base, day.isoformat().encode(), hashlib.sha256).digest()
            self._day = day
        return self._key

    def hash(self, address: str, user_agent: str, day: date) -> str:
        message = f"{address}\n{user_agent}".encode("utf-8", "replace")
        return hmac.new(self.key(day), message, hashlib.sha256).hexdigest()[:VISITOR_CHARS]

    def address(self, environ) -> str:
        """The client's address: the connection's, or the one SHARE_TRUSTED_PROXIES entries
        from the end of X-Forwarded-For (earlier entries are the client's to forge)."""
        if self.trusted_proxies:
            forwarded = [a.strip() for a in environ.get("HTTP_X_FORWARDED_FOR", "").split(",")]
            forwarded = [a for a in forwarded if a]
            if len(forwarded) >= self.trusted_proxies:
                return forwarded[-self.trusted_proxies]
        return environ.get("REMOTE_ADDR", "")

    def of_request(self, environ, day: date) -> str:
        return self.hash(self.address(environ), environ.get("HTTP_USER_AGENT", ""), day)


def hasher(app) -> VisitorHasher:
    cached = app.extensions.get("loyalty_social.visitor_hasher")
    if cached is None:
        cached = app.extensions["loyalty_social.visitor_hasher"] = VisitorHasher(
            app.config["SECRET_KEY"], app.config["SHARE_TRUSTED_PROXIES"]
        )
    return cached
