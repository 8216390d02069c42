"""REST edges of identity: resolution (social care), links (backend), flags (marketer)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ..access.auth import SECURITY, require_scope
from ..errors import Problem
from ..extensions import db
from ..rules.api import actor
from . import flags, links, service
from .schemas import (
    FlagListSchema,
    FlagQuerySchema,
    FlagSchema,
    IdentityFlagResolutionSchema,
    ResolutionSchema,
    SocialAccountListSchema,
)

identities_api = Blueprint(
    "identities",
    __name__,
    url_prefix="/api/v1",
    description="Social identities: resolution, members' links, duplicate-account flags",
)
# One answer for "unknown" and "not consented": the caller must not learn which.
NO_MATCH = "No member matches this identity."


@identities_api.route("/identities/<provider>/<path:subject_or_handle>")
class IdentityResolution(MethodView):
    @identities_api.doc(security=SECURITY)
    @identities_api.response(200, ResolutionSchema)
    @require_scope("care")
    def get(self, provider, subject_or_handle):
        """Is this social profile one of our members? Only where the member consented to
        social profile matching; otherwise 404, exactly as for an unknown identity."""
        found = service.resolve(provider, subject_or_handle)
        if found is None:
            raise Problem("not-found", NO_MATCH)
        return found


@identities_api.route("/members/<member_id>/identities")
class MemberIdentities(MethodView):
    @identities_api.doc(security=SECURITY)
    @identities_api.response(200, SocialAccountListSchema)
    @require_scope("backend")
    def get(self, member_id):
        """The member's linked social accounts (never their tokens)."""
        return {"member_id": member_id, "items": service.linked_accounts(member_id)}


@identities_api.route("/members/<member_id>/identities/<provider>")
class MemberIdentity(MethodView):
    @identities_api.doc(security=SECURITY)
    @identities_api.response(204)
    @require_scope("backend")
    def delete(self, member_id, provider):
        """Unlink; 409 when it is the only way a social-only member signs in."""
        try:
            links.unlink(member_id, provider)
        except service.NotLinked as error:
            raise Problem("not-found", str(error)) from None
        except service.LastSignInMethod as error:
            raise Problem("last-sign-in-method", str(error)) from None
        db.session.commit()


@identities_api.route("/identity-flags")
class IdentityFlags(MethodView):
    @require_scope("marketer")  # outermost: no key is a 401 before the query is read
    @identities_api.doc(security=SECURITY)
    @identities_api.arguments(FlagQuerySchema, location="query")
    @identities_api.response(200, FlagListSchema)
    def get(self, query):
        """Refused duplicate-account attempts, newest first: those awaiting review (the
        default), those reviewed, or all."""
        return {"items": flags.list_flags(query["status"], query["limit"])}


@identities_api.route("/identity-flags/<flag_id>/resolve")
class IdentityFlagResolve(MethodView):
    @require_scope("marketer")  # outermost: no key is a 401 before the body is read
    @identities_api.doc(security=SECURITY)
    @identities_api.arguments(
        IdentityFlagResolutionSchema, example={"resolution": "the same person, one account kept"}
    )
    @identities_api.response(200, FlagSchema)
    def post(self, body, flag_id):
        """Mark a flag reviewed: it leaves the open list (a second time: 409)."""
        return flags.resolve_flag(flag_id, body["resolution"], actor())
