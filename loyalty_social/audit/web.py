"""The audit log's web wiring: its API blueprint and the per-request actor reset. Apart from
the package so that importing ``audit`` (every layer does, for ``record``) never pulls in the
API and, through it, ``access``."""

from flask import g

from ..extensions import api
from .actor import reset_actor
from .api import audit_api


def init_app(app) -> None:
    api.register_blueprint(audit_api)

    @app.teardown_request
    def _forget_actor(_exc=None):
        # A server thread serves many requests: the next one must not inherit this actor.
        token = g.pop("_audit_actor_token", None)
        if token is not None:
            reset_actor(token)
