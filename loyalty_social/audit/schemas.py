"""Wire format of the audit log."""

from marshmallow import EXCLUDE, Schema, fields, validate


class AuditRecordSchema(Schema):
    id = fields.String()
    at = fields.AwareDateTime()
    actor = fields.String(
        metadata={"description": "key:<name>, cli:<user>, console:<user id>, member:<id>, system"}
    )
    action = fields.String(metadata={"description": "What changed, e.g. rule.activated"})
    target_kind = fields.String()
    target_id = fields.String()
    before = fields.Dict(allow_none=True, metadata={"description": "Redacted snapshot"})
    after = fields.Dict(allow_none=True, metadata={"description": "Redacted snapshot"})
    request_id = fields.String(allow_none=True)


class AuditQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    actor = fields.String(validate=validate.Length(1, 160))
    action = fields.String(
        validate=validate.Length(1, 64),
        metadata={"description": "A full action name, or a prefix ending in '.' (rule.)"},
    )
    target_kind = fields.String(validate=validate.Length(1, 32))
    target_id = fields.String(validate=validate.Length(1, 160))
    since = fields.AwareDateTime()
    until = fields.AwareDateTime()
    after = fields.String(
        validate=validate.Length(1, 40), metadata={"description": "Cursor: the last id seen"}
    )
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 500))


class AuditPageSchema(Schema):
    items = fields.List(fields.Nested(AuditRecordSchema), required=True)
    next_after = fields.String(allow_none=True, required=True)
