from marshmallow import EXCLUDE, RAISE, Schema, fields, validate

from ..wire_fields import StrictBoolean, WholeNumber


class BalanceSchema(Schema):
    member_id = fields.String(required=True)
    points = WholeNumber(required=True)


class LedgerEntrySchema(Schema):
    id = fields.String()
    kind = fields.String(validate=validate.OneOf(("award", "reversal", "debt_repayment")))
    points = WholeNumber()
    award_id = fields.String()
    event_id = fields.String()
    rule_id = fields.String()
    rule_version = WholeNumber()
    reason = fields.String(allow_none=True)
    debt = WholeNumber(metadata={"description": "points a reversal could not take (floor)"})
    actor = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()


class LedgerQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    after = fields.String(validate=validate.Length(1, 40))
    limit = WholeNumber(load_default=50, validate=validate.Range(1, 500))


class LedgerPageSchema(Schema):
    member_id = fields.String(required=True)
    items = fields.List(fields.Nested(LedgerEntrySchema), required=True)
    next_after = fields.String(allow_none=True, required=True)


class AwardSchema(Schema):
    id = fields.String(required=True)
    rule_id = fields.String(required=True)
    rule_version = WholeNumber(required=True)
    event_id = fields.String(required=True)
    member_id = fields.String(required=True)
    object_key = fields.String(allow_none=True)
    points = WholeNumber(required=True)
    status = fields.String(
        required=True, validate=validate.OneOf(("granted", "held", "rejected", "reversed"))
    )
    consent_ref = fields.String(allow_none=True)
    campaign_id = fields.String(allow_none=True)
    details = fields.Dict(allow_none=True)
    reason = fields.String(allow_none=True)
    decided_by = fields.String(allow_none=True)
    decided_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()
    reversed_at = fields.AwareDateTime(allow_none=True)


class AwardQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    status = fields.String(validate=validate.OneOf(("granted", "held", "rejected", "reversed")))
    member_id = fields.String(validate=validate.Length(1, 128))
    rule_id = fields.String(validate=validate.Length(1, 40))
    after = fields.String(validate=validate.Length(1, 40))
    limit = WholeNumber(load_default=50, validate=validate.Range(1, 500))


class AwardPageSchema(Schema):
    items = fields.List(fields.Nested(AwardSchema), required=True)
    next_after = fields.String(allow_none=True, required=True)


class ReasonSchema(Schema):
    class Meta:
        unknown = RAISE

    reason = fields.String(required=True, validate=validate.Length(1, 500))


class OfferCreateSchema(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(1, 200))
    product = fields.String(required=True, validate=validate.Length(1, 200))
    description = fields.String(allow_none=True, validate=validate.Length(max=2000))
    starts_at = fields.AwareDateTime(allow_none=True)
    ends_at = fields.AwareDateTime(allow_none=True)
    inventory = WholeNumber(
        allow_none=True,
        validate=validate.Range(0, 2_000_000_000),
        metadata={"description": "null: unlimited"},
    )
    uses_codes = StrictBoolean(load_default=False)
    grant_ttl_seconds = WholeNumber(
        allow_none=True,
        validate=validate.Range(60, 10 * 366 * 86400),
        metadata={"description": "a grant expires this long after it was made (null: never)"},
    )


class OfferSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    product = fields.String(required=True)
    description = fields.String(allow_none=True)
    starts_at = fields.AwareDateTime(allow_none=True)
    ends_at = fields.AwareDateTime(allow_none=True)
    inventory = WholeNumber(allow_none=True)
    granted_count = WholeNumber()
    uses_codes = StrictBoolean()
    grant_ttl_seconds = WholeNumber(allow_none=True)
    status = fields.String()
    created_at = fields.AwareDateTime()


class OfferListSchema(Schema):
    items = fields.List(fields.Nested(OfferSchema), required=True)


class OfferStatusSchema(Schema):
    class Meta:
        unknown = RAISE

    status = fields.String(required=True, validate=validate.OneOf(("active", "archived")))


class CodesSchema(Schema):
    class Meta:
        unknown = RAISE

    codes = fields.List(
        fields.String(validate=validate.Length(1, 64)),
        required=True,
        validate=validate.Length(1, 1000),
        metadata={"description": "up to 1,000 codes a call (bodies are limited in size)"},
    )


class CodesImportedSchema(Schema):
    added = WholeNumber(required=True)
    free = WholeNumber(required=True)


class MemberOfferSchema(Schema):
    id = fields.String(required=True)
    offer_id = fields.String(required=True)
    name = fields.String(required=True)
    product = fields.String(required=True)
    description = fields.String(allow_none=True)
    code = fields.String(allow_none=True)
    status = fields.String(
        required=True, validate=validate.OneOf(("granted", "redeemed", "expired"))
    )
    granted_at = fields.AwareDateTime()
    expires_at = fields.AwareDateTime(allow_none=True)
    redeemed_at = fields.AwareDateTime(allow_none=True)


class MemberOfferListSchema(Schema):
    member_id = fields.String(required=True)
    items = fields.List(fields.Nested(MemberOfferSchema), required=True)
