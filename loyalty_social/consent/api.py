"""The backend's consent endpoints: read a member's consents and history, grant or withdraw.
(Consents given elsewhere are imported with ``loyalty-social consent import``.)"""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from ..access.auth import SECURITY, require_scope
from ..errors import Problem
from ..extensions import db
from . import policies, service
from .schemas import ConsentListSchema, ConsentSchema, ConsentUpdateSchema

consents_api = Blueprint(
    "consents",
    __name__,
    url_prefix="/api/v1",
    description="Members' consent per purpose (targeted rewards, social profile matching, "
    "social activity use), with the policy version each was given under",
)


def _listing(member_id: str) -> dict:
    return {
        "member_id": member_id,
        "consents": service.consents(member_id),
        "history": service.history(member_id),
    }


@consents_api.route("/members/<member_id>/consents")
class Consents(MethodView):
    @consents_api.doc(security=SECURITY)
    @consents_api.response(200, ConsentListSchema)
    @require_scope("backend")
    def get(self, member_id):
        """Every purpose with the member's current decision, and the full history."""
        listing = _listing(member_id)
        db.session.commit()  # a changed policy text is published on first use
        return listing


@consents_api.route("/members/<member_id>/consents/<purpose>")
class Consent(MethodView):
    @consents_api.doc(security=SECURITY)
    @require_scope("backend")  # outermost: no credentials is 401 before the body is read
    @consents_api.arguments(
        ConsentUpdateSchema, example={"granted": True, "source": "backend", "actor": "crm-sync"}
    )
    @consents_api.response(200, ConsentSchema)
    def put(self, body, member_id, purpose):
        """Grant or withdraw one purpose; takes effect on the next request anywhere."""
        if purpose not in policies.names():
            raise Problem("not-found", f"No consent purpose {purpose!r}.")
        try:
            service.set_consent(
                member_id,
                purpose,
                body["granted"],
                body["source"],
                body.get("actor") or g.principal.name,
                body.get("policy_version"),
            )
        except service.MemberErased as error:
            raise Problem("member-erased", str(error)) from None
        except service.ConsentError as error:
            raise Problem(
                "validation-failed", str(error), errors={"policy_version": [str(error)]}
            ) from None
        db.session.commit()
        return next(c for c in service.consents(member_id) if c["purpose"] == purpose)
