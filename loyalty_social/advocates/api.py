"""REST edges of advocates: members' share links (backend) and referral flags (marketer)."""

from __future__ import annotations

from types import SimpleNamespace

from flask.views import MethodView
from flask_smorest import Blueprint

from ..access.auth import SECURITY, require_scope
from ..identity.schemas import FlagQuerySchema
from ..rules.api import actor
from . import flags, links
from .models import ShareLink
from .schemas import (
    FlagResolutionSchema,
    ReferralFlagListSchema,
    ReferralFlagSchema,
    ShareLinkCreatedSchema,
    ShareLinkCreateSchema,
    ShareLinkListSchema,
    ShareLinkSchema,
)

advocates_api = Blueprint(
    "advocates",
    __name__,
    url_prefix="/api/v1",
    description="Tracked share links and referral flags",
)


def _out(link, **extra) -> SimpleNamespace:
    """The link as the schema reads it, with its public address."""
    columns = {c.key: getattr(link, c.key) for c in ShareLink.__table__.columns}
    return SimpleNamespace(**columns, share_url=links.share_url(link.code), **extra)


@advocates_api.route("/members/<member_id>/share-links")
class MemberShareLinks(MethodView):
    @require_scope("backend")
    @advocates_api.doc(security=SECURITY)
    @advocates_api.arguments(ShareLinkCreateSchema, example={"url": "https://shop.example/p/123"})
    @advocates_api.response(200, ShareLinkCreatedSchema)
    def post(self, body, member_id):
        """The member's tracked link to an allow-listed brand URL (the same link on every
        call for the same URL: ``created`` says whether it is new)."""
        link, created = links.create_link(member_id, body["url"])
        return _out(link, created=created)

    @require_scope("backend")
    @advocates_api.doc(security=SECURITY)
    @advocates_api.response(200, ShareLinkListSchema)
    def get(self, member_id):
        """The member's share links, newest first, with their click counts."""
        return {"member_id": member_id, "items": [_out(x) for x in links.member_links(member_id)]}


@advocates_api.route("/share-links/<code>/disable")
class ShareLinkDisable(MethodView):
    @require_scope("backend")
    @advocates_api.doc(security=SECURITY)
    @advocates_api.response(200, ShareLinkSchema)
    def post(self, code):
        """Disable a link: it answers 404 from then on (within SHARE_LINK_CACHE_SECONDS)."""
        return _out(links.disable_link(code))


@advocates_api.route("/referral-flags")
class ReferralFlags(MethodView):
    @require_scope("marketer")
    @advocates_api.doc(security=SECURITY)
    @advocates_api.arguments(FlagQuerySchema, location="query")
    @advocates_api.response(200, ReferralFlagListSchema)
    def get(self, query):
        """Refused self-referrals and referrals held for velocity, newest first."""
        return {"items": flags.list_flags(query["status"], query["limit"])}


@advocates_api.route("/referral-flags/<flag_id>/resolve")
class ReferralFlagResolve(MethodView):
    @require_scope("marketer")
    @advocates_api.doc(security=SECURITY)
    @advocates_api.arguments(
        FlagResolutionSchema, example={"resolution": "same household, not fraud; awards approved"}
    )
    @advocates_api.response(200, ReferralFlagSchema)
    def post(self, body, flag_id):
        """Mark a flag reviewed (its held awards are approved or rejected in the approval
        queue)."""
        return flags.resolve_flag(flag_id, body["resolution"], actor())
