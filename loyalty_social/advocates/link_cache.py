"""The redirect's per-process copy of share links: code -> redirect location (None: 404).

Measured with ``bench/redirect.py``: when copies expired and each request thread reloaded its
own link, every expiry under load was a database round trip on the request path (a pool
checkout with its ping, the query, a rollback) while PostgreSQL shared the cores with the
server: p99 grew from 20 ms to 0.5 s as a warm cache aged, and a cold process answered 1,800
instead of 11,000 redirects a second. So the database is read by one loader thread per
process, never by a request thread, and in batches:

- a fresh copy is answered from memory;
- an ageing copy (past REFRESH_AT of its trust period) is still answered, and its code is
  queued for the loader, so a link in use is reloaded before it expires;
- an expired or unknown code waits for the loader, which reads every code queued meanwhile
  in one query (concurrent misses for one code are one read).

A copy is never answered after SHARE_LINK_CACHE_SECONDS: disabling a link or removing its
target from the allow-list takes effect within that time in every process.
"""

from __future__ import annotations

import os
import random
import threading
import time
from concurrent.futures import Future
from urllib.parse import quote, urlsplit, urlunsplit

from sqlalchemy import bindparam, select

from ..extensions import db
from .allowlist import allowed, prefixes_of
from .models import ShareLink

UTM = ("utm_source", "utm_medium", "utm_campaign", "ref")
CACHE_MAX = 100_000
BATCH_MAX = 500  # codes per query
LOAD_TIMEOUT_SECONDS = 10
# Reload a link in use once this share of its trust period has passed (spread a little, so
# copies loaded together are not reloaded together).
REFRESH_AT = (0.5, 0.8)

_LINKS = ShareLink.__table__
_LOOKUP = select(_LINKS.c.code, _LINKS.c.target_url, _LINKS.c.network, _LINKS.c.disabled_at).where(
    _LINKS.c.code.in_(bindparam("codes", expanding=True))
)


def tracked_url(target: str, network: str | None, code: str) -> str:
    """The target with utm_source (the network shared on, else 'share'), utm_medium=social,
    utm_campaign=advocate and ref=<code>; its other query parameters and fragment kept as
    they were."""
    parts = urlsplit(target)
    kept = [p for p in parts.query.split("&") if p and p.split("=", 1)[0] not in UTM]
    ours = {
        "utm_source": network or "share",
        "utm_medium": "social",
        "utm_campaign": "advocate",
        "ref": code,
    }
    kept += [f"{k}={quote(v, safe='')}" for k, v in ours.items()]
    return urlunsplit(parts._replace(query="&".join(kept)))


class LinkCache:
    def __init__(self, app):
        self.app = app
        self.seconds = app.config["SHARE_LINK_CACHE_SECONDS"]
        self.prefixes = prefixes_of(app)
        # code -> (reload after, answer until, location)
        self._entries: dict[str, tuple[float, float, str | None]] = {}
        self._queued: dict[str, Future] = {}
        self._wake = threading.Condition()
        self._pid = None

    def get(self, code: str) -> str | None:
        """The location for ``code``; raises what the loader met if it had to wait for it."""
        entry = self._entries.get(code)
        now = time.monotonic()
        if entry is not None and now < entry[1]:
            if now >= entry[0]:
                self._queue(code)  # answered from the copy; reloaded in the background
            return entry[2]
        return self._queue(code).result(LOAD_TIMEOUT_SECONDS)

    def _queue(self, code: str) -> Future:
        with self._wake:
            if self._pid != os.getpid():  # first use in this (possibly forked) process
                self._pid = os.getpid()
                self._queued = {}
                threading.Thread(target=self._run, name="advocates-links", daemon=True).start()
            future = self._queued.get(code)
            if future is None:
                future = self._queued[code] = Future()
                self._wake.notify()
            return future

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._queued:
                    self._wake.wait()
                codes = list(self._queued)[:BATCH_MAX]
                batch = {code: self._queued.pop(code) for code in codes}
            try:
                locations = self._load(codes)
            except Exception as error:  # the database away: the waiting requests answer 503
                for future in batch.values():
                    future.set_exception(error)
                continue
            self._store(locations)
            for code, future in batch.items():
                future.set_result(locations[code])

    def _store(self, locations: dict[str, str | None]) -> None:
        now = time.monotonic()
        if len(self._entries) + len(locations) > CACHE_MAX:
            self._entries = {}
        for code, location in locations.items():
            reload_after = now + self.seconds * random.uniform(*REFRESH_AT)
            self._entries[code] = (reload_after, now + self.seconds, location)

    def _load(self, codes: list[str]) -> dict[str, str | None]:
        with self.app.app_context():
            rows = db.session.execute(_LOOKUP, {"codes": codes}).all()
            db.session.remove()
        found = {
            row.code: tracked_url(row.target_url, row.network, row.code)
            for row in rows
            if row.disabled_at is None and allowed(row.target_url, self.prefixes)
        }
        return {code: found.get(code) for code in codes}
