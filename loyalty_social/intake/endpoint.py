"""``POST /webhooks/<source>``: the signed webhook receiver, a plain WSGI app in front of Flask.

This is the one endpoint every sender hammers, and its answer waits on a group commit. Going
through Flask's request machinery (request context, session, URL routing, before/after hooks,
response objects) cost about as much CPU as everything the endpoint itself does, so it is
served by this small WSGI app, which Flask falls through to for every other path. What Flask
gave the route is done here explicitly: the request id (``X-Request-ID`` echoed, bound to log
records), request metrics, the body limit, RFC 9457 problems from the same registry, and one
app context for the source cache and the committer.

The steps, in order: known source, JSON content type, body within the limit, signature on the
raw body, per-source rate limit, envelope and payload validation, then the row is handed to the
group committer and the answer waits for its commit (202 new, 200 repeat, 409 other body).
"""

from __future__ import annotations

import json
import math
import re
import time
from concurrent.futures import TimeoutError as FutureTimeout

from ..errors import PROBLEM_JSON, Problem, as_problem, problem_document
from ..ids import new_id
from ..logs import log_context
from ..metrics import EVENTS_RECEIVED, LATENCY, REQUESTS, method_label
from . import service
from .committer import pipeline
from .ratelimit import RateLimiter
from .signature import SignatureError, verify
from .sources import SourceCache

PREFIX = "/webhooks/"
ROUTE = "/webhooks/<source_name>"  # the metrics label Flask would have given it
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_HEADERS = (
    ("webhook-id", "HTTP_WEBHOOK_ID"),
    ("webhook-timestamp", "HTTP_WEBHOOK_TIMESTAMP"),
    ("webhook-signature", "HTTP_WEBHOOK_SIGNATURE"),
)


class WebhookEndpoint:
    """WSGI middleware: webhook requests are answered here, the rest go to ``fallback``."""

    def __init__(self, app, fallback):
        self.app = app
        self.fallback = fallback
        self.sources = SourceCache(app.config["SOURCE_CACHE_SECONDS"])
        self.limiter = RateLimiter(app.config["REDIS_URL"], app.config["QUEUE_NAME"])
        self.max_body = app.config["WEBHOOK_MAX_BODY_BYTES"]
        self.tolerance = app.config["WEBHOOK_TOLERANCE_SECONDS"]
        # Labelled metric children looked up once, not per request.
        self.latency = LATENCY.labels(ROUTE)
        self.requests: dict[tuple[str, int], object] = {}

    def _count(self, method: str, status: int) -> None:
        method = method_label(method)
        counter = self.requests.get((method, status))
        if counter is None:
            counter = self.requests[(method, status)] = REQUESTS.labels(ROUTE, method, str(status))
        counter.inc()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        source_name = path[len(PREFIX) :] if path.startswith(PREFIX) else ""
        if not source_name or "/" in source_name:
            return self.fallback(environ, start_response)
        started = time.perf_counter()
        incoming = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else new_id("req")
        token = log_context.set({"request_id": request_id})
        try:
            with self.app.app_context():
                status, body, headers = self._answer(environ, source_name)
        except Exception as error:  # a problem, the database, or a bug: all answered as JSON
            problem = as_problem(error)
            status, body, headers = self._problem(problem, path)
        finally:
            log_context.reset(token)
        payload = json.dumps(body).encode()
        headers = [
            *headers,
            ("Content-Length", str(len(payload))),
            ("X-Request-ID", request_id),
        ]
        reason = "OK" if status < 400 else "Error"
        start_response(f"{status} {reason}", headers)
        self._count(environ.get("REQUEST_METHOD", ""), status)
        self.latency.observe(time.perf_counter() - started)
        return [payload]

    @staticmethod
    def _problem(problem: Problem, path: str):
        body = problem_document(
            problem.problem_type.slug, problem.detail, path, **problem.extensions
        )
        headers = [("Content-Type", PROBLEM_JSON), *problem.headers.items()]
        return body["status"], body, headers

    def _answer(self, environ, source_name: str):
        if environ.get("REQUEST_METHOD") != "POST":
            raise Problem("method-not-allowed", "Webhooks are POSTed.", headers={"Allow": "POST"})
        source = self.sources.get(source_name)
        if source is None or not source.enabled:
            raise Problem("unknown-source", f"No enabled webhook source {source_name!r}.")
        mimetype = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
        if mimetype != "application/json":
            raise Problem("unsupported-media-type", "Send the event as application/json.")
        body = self._read_body(environ)
        headers = {name: environ.get(key) for name, key in _HEADERS}
        try:
            webhook_id = verify(
                source.secrets, headers, body, self.tolerance, public_keys=source.public_keys
            )
        except SignatureError as error:
            EVENTS_RECEIVED.labels("invalid_signature").inc()
            raise Problem("invalid-signature", str(error)) from None
        wait = self.limiter.take(source.name, source.rate_limit, source.rate_burst)
        if wait:
            EVENTS_RECEIVED.labels("rate_limited").inc()
            raise Problem(
                "rate-limited",
                f"Source {source.name!r} is over its rate limit.",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        try:
            row = service.build_event_row(source, webhook_id, body, self.tolerance)
        except Problem:
            EVENTS_RECEIVED.labels("invalid").inc()
            raise
        try:
            result = pipeline(self.app).committer.submit(row)
        except FutureTimeout:
            raise Problem(
                "service-unavailable", "Storing the event timed out.", headers={"Retry-After": "5"}
            ) from None
        if result.conflict:
            EVENTS_RECEIVED.labels("conflict").inc()
            raise Problem(
                "webhook-id-reused",
                f"webhook-id {webhook_id!r} was already delivered with a different body.",
                event_id=result.id,
            )
        if result.dropped:  # an erased member: accepted (the sender stops) and not stored
            EVENTS_RECEIVED.labels("dropped").inc()
            answer = {"id": None, "status": "dropped", "duplicate": False, "outcome": None}
            return 202, answer, [("Content-Type", "application/json")]
        EVENTS_RECEIVED.labels("duplicate" if result.duplicate else "accepted").inc()
        answer = {
            "id": result.id,
            "status": result.status,
            "duplicate": result.duplicate,
            "outcome": result.outcome,
        }
        return (200 if result.duplicate else 202), answer, [("Content-Type", "application/json")]

    def _read_body(self, environ) -> bytes:
        """The raw body (the signature covers its exact bytes), refused above the limit."""
        stream = environ["wsgi.input"]
        length = environ.get("CONTENT_LENGTH") or ""
        too_large = Problem("payload-too-large", f"The body is larger than {self.max_body} bytes.")
        if length.isdigit():
            if int(length) > self.max_body:
                raise too_large
            return stream.read(int(length))
        body = stream.read(self.max_body + 1)  # chunked: read at most one byte past the limit
        if len(body) > self.max_body:
            raise too_large
        return body


def init_app(app) -> None:
    app.wsgi_app = WebhookEndpoint(app, app.wsgi_app)
