"""``GET /s/<code>``: the share-link redirect, a plain WSGI app in front of Flask (the hot path,
served like the webhook endpoint: Flask's request machinery would cost more than the work).

Per request: one dictionary lookup for the link (``LinkCache``; the database only on a miss),
a keyed hash of the visitor, a click handed to the writer thread (never a commit here), and a
302 to the allow-listed target with UTM parameters and ``ref=<code>``. A first-party cookie
``ls_ref=<code>.<visitor>`` remembers the referral for the portal's sign-up. Unknown, disabled
or no-longer-allowed codes answer a plain 404 page: never a redirect anywhere else.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from urllib.parse import quote, urlsplit, urlunsplit

from sqlalchemy import bindparam, select

from ..errors import as_problem
from ..extensions import db
from ..timeutil import utcnow
from .agents import classify
from .allowlist import allowed, prefixes_of
from .clicks import Seen, writer
from .links import COOKIE
from .models import ShareLink
from .visitors import hasher

log = logging.getLogger(__name__)
PREFIX = "/s/"
_CODE = re.compile(r"[A-Za-z0-9]{1,16}")
UTM = ("utm_source", "utm_medium", "utm_campaign", "ref")
CACHE_MAX = 100_000
NOT_FOUND = (
    b"<!doctype html><html lang=en><meta charset=utf-8><title>Link not found</title>"
    b"<h1>Link not found</h1><p>This share link does not exist or is no longer active.</p>"
)
_LINKS = ShareLink.__table__
_LOOKUP = select(_LINKS.c.target_url, _LINKS.c.network, _LINKS.c.disabled_at).where(
    _LINKS.c.code == bindparam("code")
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
    """code -> redirect location (None: answer 404), trusted SHARE_LINK_CACHE_SECONDS."""

    def __init__(self, app):
        self.app = app
        self.seconds = app.config["SHARE_LINK_CACHE_SECONDS"]
        self.prefixes = prefixes_of(app)
        self._entries: dict[str, tuple[float, str | None]] = {}
        self._lock = threading.Lock()

    def get(self, code: str) -> str | None:
        entry = self._entries.get(code)
        now = time.monotonic()
        if entry is not None and entry[0] > now:
            return entry[1]
        location = self._load(code)
        with self._lock:
            if len(self._entries) >= CACHE_MAX:
                self._entries.clear()
            # 50-100 % of the trust period: links cached together do not expire together
            self._entries[code] = (now + self.seconds * (0.5 + random.random() / 2), location)
        return location

    def _load(self, code: str) -> str | None:
        with self.app.app_context():
            row = db.session.execute(_LOOKUP, {"code": code}).first()
            db.session.remove()
        if row is None or row.disabled_at is not None:
            return None
        if not allowed(row.target_url, self.prefixes):  # the allow-list changed since
            return None
        return tracked_url(row.target_url, row.network, code)


class ShareRedirect:
    """WSGI middleware: /s/<code> is answered here, the rest go to ``fallback``."""

    def __init__(self, app, fallback):
        self.app = app
        self.fallback = fallback
        self.links = LinkCache(app)
        self.visitors = hasher(app)
        config = app.config
        secure = config["ENV"] == "production" or config["PUBLIC_URL"].startswith("https://")
        self.cookie_tail = (
            f"; Max-Age={config['REFERRAL_WINDOW_DAYS'] * 86400}; Path=/; HttpOnly; SameSite=Lax"
            + ("; Secure" if secure else "")
        )

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not path.startswith(PREFIX):
            return self.fallback(environ, start_response)
        method = environ.get("REQUEST_METHOD", "")
        if method not in ("GET", "HEAD"):
            return _plain(start_response, "405 Method Not Allowed", b"", [("Allow", "GET, HEAD")])
        code = path[len(PREFIX) :]
        try:
            location = self.links.get(code) if _CODE.fullmatch(code) else None
        except Exception as error:  # the database: 503 (as_problem logs anything else)
            status = as_problem(error).problem_type.status
            return _plain(start_response, f"{status} Unavailable", b"Try again shortly.", [])
        if location is None:
            return _plain(start_response, "404 Not Found", NOT_FOUND, [])
        headers = [("Location", location), ("Cache-Control", "no-store"), ("Content-Length", "0")]
        cookie = self._record(environ, code, method)
        if cookie:
            headers.append(("Set-Cookie", cookie))
        start_response("302 Found", headers)
        return [b""]

    def _record(self, environ, code: str, method: str) -> str | None:
        """Hand the click to the writer; the referral cookie for a person, none for a bot."""
        now = utcnow()
        user_agent = environ.get("HTTP_USER_AGENT", "")
        agent = classify(user_agent)
        bot = agent == "bot" or method == "HEAD"
        visitor = self.visitors.of_request(environ, now.date())
        repeat = _cookie_code(environ.get("HTTP_COOKIE", "")) == code
        referrer = environ.get("HTTP_REFERER")
        writer(self.app).notify(
            [Seen(code, now, _host(referrer) if referrer else None, agent, visitor, bot, repeat)]
        )
        return None if bot else f"{COOKIE}={code}.{visitor}{self.cookie_tail}"


def _cookie_code(header: str) -> str | None:
    start = header.find(COOKIE + "=")
    if start < 0:
        return None
    value = header[start + len(COOKIE) + 1 :].split(";", 1)[0]
    return value.split(".", 1)[0].strip()


def _host(referrer: str) -> str | None:
    try:
        host = urlsplit(referrer).hostname
    except ValueError:
        return None
    return host[:255] if host else None


def _plain(start_response, status: str, body: bytes, headers: list):
    content_type = "text/html; charset=utf-8" if body.startswith(b"<!doctype") else "text/plain"
    start_response(
        status,
        [("Content-Type", content_type), ("Content-Length", str(len(body))), *headers],
    )
    return [body]


def init_app(app) -> None:
    app.wsgi_app = ShareRedirect(app, app.wsgi_app)
