"""The audit log: who changed what, when, with the state before and after.

Every service function that changes configuration or a member's standing calls
``record(...)`` inside its own transaction, so the log cannot be forgotten or drift from the
change (the write path is the audit path). Entry points say who is acting with
``acting_as(...)``: the API key's authentication, the CLI, a console session.
"""

from .actor import acting_as, current_actor
from .service import record

__all__ = ["acting_as", "current_actor", "init_app", "record"]


def init_app(app) -> None:
    from flask import g

    from ..extensions import api
    from .actor import reset_actor
    from .api import audit_api

    api.register_blueprint(audit_api)

    @app.teardown_request
    def _forget_actor(_exc=None):
        # A server thread serves many requests: the next one must not inherit this actor.
        token = g.pop("_audit_actor_token", None)
        if token is not None:
            reset_actor(token)
