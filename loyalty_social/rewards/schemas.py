from marshmallow import EXCLUDE, Schema, fields, validate


class BalanceSchema(Schema):
    member_id = fields.String(required=True)
    points = fields.Integer(required=True)


class LedgerEntrySchema(Schema):
    id = fields.String()
    kind = fields.String(validate=validate.OneOf(("award", "reversal")))
    points = fields.Integer()
    award_id = fields.String()
    event_id = fields.String()
    rule_id = fields.String()
    rule_version = fields.Integer()
    reason = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()


class LedgerQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    after = fields.String(validate=validate.Length(1, 40))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))


class LedgerPageSchema(Schema):
    member_id = fields.String(required=True)
    items = fields.List(fields.Nested(LedgerEntrySchema), required=True)
    next_after = fields.String(allow_none=True, required=True)
