"""A request id on every request: taken from X-Request-ID when sane, echoed back, logged."""

import re

from flask import g, request

from .ids import new_id
from .logs import log_context

_SAFE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def _begin():
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _SAFE.match(incoming) else new_id("req")
    g._log_token = log_context.set({"request_id": g.request_id})


def _finish(response):
    response.headers["X-Request-ID"] = g.get("request_id", "")
    return response


def _reset(_exc=None):
    token = g.pop("_log_token", None)
    if token is not None:
        log_context.reset(token)


def init_app(app) -> None:
    app.before_request(_begin)
    app.after_request(_finish)
    app.teardown_request(_reset)
