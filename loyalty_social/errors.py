"""RFC 9457 problem details: one registry of error types, one handler for every error path.

Clients branch on the stable ``type`` URI, never on the human ``title``/``detail`` text.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Flask, jsonify, request
from marshmallow import INCLUDE, Schema, fields
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

TYPE_BASE = "https://loyalty-social.dev/problems/"
PROBLEM_JSON = "application/problem+json"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProblemType:
    slug: str
    status: int
    title: str

    @property
    def uri(self) -> str:
        return TYPE_BASE + self.slug


def _types(*items: ProblemType) -> dict[str, ProblemType]:
    return {item.slug: item for item in items}


REGISTRY: dict[str, ProblemType] = _types(
    ProblemType("bad-request", 400, "The request is malformed"),
    ProblemType("malformed-json", 400, "The body is not valid JSON"),
    ProblemType("unauthenticated", 401, "Authentication is required"),
    ProblemType("invalid-signature", 401, "The webhook signature does not verify"),
    ProblemType("forbidden", 403, "The credentials lack the required scope"),
    # 403: a well-formed URL the service does not permit share links to (SHARE_LINK_TARGETS).
    ProblemType("share-target-not-allowed", 403, "The URL is not on the share allow-list"),
    ProblemType("not-found", 404, "No such resource"),
    ProblemType("unknown-source", 404, "No such webhook source"),
    ProblemType("method-not-allowed", 405, "Method not allowed"),
    ProblemType("conflict", 409, "The request conflicts with the current state"),
    ProblemType("webhook-id-reused", 409, "This webhook-id was already used for another body"),
    ProblemType("last-sign-in-method", 409, "The member signs in only with this social account"),
    ProblemType("delivery-not-retryable", 409, "Only failed or dead-lettered deliveries retry"),
    ProblemType("rule-not-changeable", 409, "The rule's status does not allow this change"),
    ProblemType(
        "rule-reference-missing", 409, "The rule names a campaign or offer that does not exist"
    ),
    ProblemType("consent-required", 409, "The member has not consented to this use"),
    ProblemType("award-not-held", 409, "Only held awards can be approved or rejected"),
    ProblemType("award-not-granted", 409, "Only granted awards can be reversed"),
    ProblemType("offer-not-redeemable", 409, "The offer grant was redeemed or has expired"),
    ProblemType("member-erased", 410, "The member's data was erased"),
    ProblemType("invalid-rule", 422, "The rule definition is invalid"),
    ProblemType("payload-too-large", 413, "The body is larger than the limit"),
    ProblemType("unsupported-media-type", 415, "The content type is not supported"),
    ProblemType("validation-failed", 422, "The request body failed validation"),
    ProblemType("unknown-event-type", 422, "The event type is not in the catalogue"),
    ProblemType("event-not-storable", 422, "The database refused to store the event"),
    ProblemType("rate-limited", 429, "Too many requests"),
    ProblemType("internal-error", 500, "Internal server error"),
    ProblemType("service-unavailable", 503, "The service is temporarily unavailable"),
)
_BY_STATUS = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    410: "member-erased",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-failed",
    429: "rate-limited",
    503: "service-unavailable",
}


class ProblemSchema(Schema):
    """The documented shape of every error body; extension members vary by type."""

    class Meta:
        unknown = INCLUDE

    type = fields.String(required=True, metadata={"description": "Stable URI naming the error"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    instance = fields.String(allow_none=True)
    errors = fields.Dict(metadata={"description": "Per-field validation messages"})


class Problem(Exception):
    """Raise anywhere in a request to answer with a registered problem."""

    def __init__(
        self,
        slug: str,
        detail: str | None = None,
        *,
        headers: dict | None = None,
        **extensions,
    ):
        if slug not in REGISTRY:
            raise KeyError(f"unregistered problem type {slug!r}")
        super().__init__(detail or REGISTRY[slug].title)
        self.problem_type = REGISTRY[slug]
        self.detail = detail
        self.headers = headers or {}
        self.extensions = extensions


def problem_document(
    slug: str, detail: str | None = None, instance: str | None = None, **extensions
) -> dict:
    """The RFC 9457 body for a registered type (one shape for Flask and the webhook endpoint)."""
    kind = REGISTRY[slug]
    body = {"type": kind.uri, "title": kind.title, "status": kind.status}
    if detail:
        body["detail"] = detail
    body["instance"] = instance
    body.update(extensions)
    return body


def problem_response(
    slug: str, detail: str | None = None, headers: dict | None = None, **extensions
):
    body = problem_document(slug, detail, request.path if request else None, **extensions)
    response = jsonify(body)
    response.status_code = body["status"]
    response.mimetype = PROBLEM_JSON
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def as_problem(error: Exception) -> Problem:
    """What to answer for an error raised outside a view's own checks: database unreachable
    is 503 with Retry-After (the sender retries), anything else a logged 500."""
    if isinstance(error, Problem):
        return error
    if isinstance(error, DBAPIError) and (
        error.connection_invalidated or isinstance(error, OperationalError)
    ):
        log.warning("database unavailable: %s", type(error.orig).__name__)
        return Problem(
            "service-unavailable",
            "The database is unreachable; retry later.",
            headers={"Retry-After": "5"},
        )
    log.exception("unhandled error", exc_info=error)
    return Problem("internal-error")


def _http_exception(error: HTTPException):
    slug = _BY_STATUS.get(error.code or 500, "bad-request" if (error.code or 500) < 500 else None)
    if slug is None:
        slug = "internal-error"
    extensions = {}
    # flask-smorest/webargs put field errors on the exception; surface them per field.
    messages = getattr(error, "data", {}).get("messages") if hasattr(error, "data") else None
    if messages:
        extensions["errors"] = messages
        if error.code == 422:
            slug = "validation-failed"
    headers = {}
    if error.code == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)
    detail = error.description if error.code != 500 else None
    return problem_response(slug, detail, headers=headers, **extensions)


def _problem(error: Problem):
    return problem_response(
        error.problem_type.slug, error.detail, headers=error.headers, **error.extensions
    )


def _any_error(error: Exception):
    return _problem(as_problem(error))


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(Problem, _problem)
    app.register_error_handler(HTTPException, _http_exception)
    app.register_error_handler(Exception, _any_error)
