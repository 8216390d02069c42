"""Wire formats of advocates: share links with their counters, referral flags."""

from marshmallow import RAISE, Schema, fields, validate

URL_PATTERN = r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?([/?#][!-~]*)?$"


class ShareLinkCreateSchema(Schema):
    class Meta:
        unknown = RAISE

    # Documented (pattern) and enforced alike; the allow-list then decides (403 otherwise).
    url = fields.String(
        required=True,
        validate=[validate.Length(1, 2048), validate.Regexp(URL_PATTERN)],
        metadata={"description": "A brand URL on the share allow-list (SHARE_LINK_TARGETS)"},
    )


class ShareLinkSchema(Schema):
    code = fields.String(required=True)
    member_id = fields.String(required=True)
    url = fields.String(required=True, attribute="target_url", metadata={"description": "Target"})
    share_url = fields.String(required=True, metadata={"description": "The link to share"})
    created_at = fields.AwareDateTime(required=True)
    disabled = fields.Method("_disabled", required=True)
    shared_event_id = fields.String(allow_none=True)
    network = fields.String(allow_none=True)
    verified_at = fields.AwareDateTime(
        allow_none=True, metadata={"description": "When the share became tracked evidence"}
    )
    clicks = fields.Integer(required=True, metadata={"description": "Distinct human clicks"})
    bot_clicks = fields.Integer(required=True)
    repeat_clicks = fields.Integer(required=True)
    last_click_at = fields.AwareDateTime(allow_none=True)

    def _disabled(self, link) -> bool:
        return link.disabled_at is not None


class ShareLinkCreatedSchema(ShareLinkSchema):
    created = fields.Boolean(
        required=True, metadata={"description": "False: the member already had this link"}
    )


class ShareLinkListSchema(Schema):
    member_id = fields.String(required=True)
    items = fields.List(fields.Nested(ShareLinkSchema), required=True)


class ReferralFlagSchema(Schema):
    id = fields.String(required=True)
    kind = fields.String(
        required=True,
        metadata={
            "description": "self_member | self_identity | self_visitor (refused); "
            "visitor_velocity | burst (held for review)"
        },
    )
    sharer_id = fields.String(required=True)
    referred_member_id = fields.String(allow_none=True)
    link_code = fields.String(allow_none=True)
    event_id = fields.String(allow_none=True)
    detail = fields.String(required=True)
    created_at = fields.AwareDateTime(required=True)
    resolved_at = fields.AwareDateTime(allow_none=True)
    resolved_by = fields.String(allow_none=True)
    resolution = fields.String(allow_none=True)


class ReferralFlagListSchema(Schema):
    items = fields.List(fields.Nested(ReferralFlagSchema), required=True)


class FlagResolutionSchema(Schema):
    class Meta:
        unknown = RAISE

    resolution = fields.String(required=True, validate=validate.Length(1, 512))
