"""``GET /s/<code>``: the share-link redirect, a plain WSGI app in front of Flask (the hot path,
served like the webhook endpoint: Flask's request machinery would cost more than the work).

Per request: one dictionary lookup for the link (``LinkCache``: the database is read by its
loader thread, never by a request thread),
a keyed hash of the visitor, a click handed to the writer thread (never a commit here), and a
302 to the allow-listed target with UTM parameters and ``ref=<code>``. A first-party cookie
``ls_ref=<code>.<visitor>`` remembers the referral for the portal's sign-up. Unknown, disabled
or no-longer-allowed codes answer a plain 404 page: never a redirect anywhere else.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

from ..errors import as_problem
from ..timeutil import utcnow
from .agents import classify
from .clicks import Seen, writer
from .link_cache import LinkCache
from .links import COOKIE
from .visitors import hasher

log = logging.getLogger(__name__)
PREFIX = "/s/"
_CODE = re.compile(r"[A-Za-z0-9]{1,16}")
NOT_FOUND = (
    b"<!doctype html><html lang=en><meta charset=utf-8><title>Link not found</title>"
    b"<h1>Link not found</h1><p>This share link does not exist or is no longer active.</p>"
)


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
        except Exception as error:  # the database away or slow: 503 (as_problem logs the rest)
            slow = isinstance(error, TimeoutError)
            status = 503 if slow else as_problem(error).problem_type.status
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
