"""Wire formats of identity: resolution for social care, links for the backend, flags."""

from marshmallow import RAISE, Schema, fields, validate

from .flags import STATUSES


class ResolutionSchema(Schema):
    member_id = fields.String(required=True)
    tier = fields.String(allow_none=True, required=True)
    priority = fields.String(
        required=True,
        validate=validate.OneOf(["high", "normal"]),
        metadata={"description": "Hint for the care queue, from the member's tier"},
    )


class SocialAccountSchema(Schema):
    """A link as the backend sees it; tokens never leave the service."""

    provider = fields.String()
    subject = fields.String()
    handle = fields.String(allow_none=True)
    display_name = fields.String(allow_none=True)
    health = fields.String(validate=validate.OneOf(["ok", "needs_attention"]))
    tokens_kept = fields.Method("_tokens_kept")
    linked_at = fields.AwareDateTime()

    def _tokens_kept(self, account) -> bool:
        return account.access_token_enc is not None


class SocialAccountListSchema(Schema):
    member_id = fields.String(required=True)
    items = fields.List(fields.Nested(SocialAccountSchema), required=True)


class FlagQuerySchema(Schema):
    """The flag lists' query (identity flags and referral flags alike)."""

    class Meta:
        unknown = RAISE

    status = fields.String(load_default="open", validate=validate.OneOf(STATUSES))
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 500))


class FlagSchema(Schema):
    id = fields.String()
    provider = fields.String()
    subject = fields.String()
    kind = fields.String(metadata={"description": "signup_while_linked | repeat_signup"})
    member_ids = fields.List(fields.String())
    detail = fields.String()
    created_at = fields.AwareDateTime()
    reviewed_at = fields.AwareDateTime(allow_none=True)
    reviewed_by = fields.String(allow_none=True)
    resolution = fields.String(allow_none=True)


class FlagListSchema(Schema):
    items = fields.List(fields.Nested(FlagSchema), required=True)


class IdentityFlagResolutionSchema(Schema):
    class Meta:
        unknown = RAISE

    resolution = fields.String(required=True, validate=validate.Length(1, 512))
