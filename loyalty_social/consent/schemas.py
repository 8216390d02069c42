"""Wire format of consent for the loyalty backend."""

from marshmallow import EXCLUDE, Schema, fields, validate

from .service import PURPOSES, SOURCES


class ConsentSchema(Schema):
    purpose = fields.String(validate=validate.OneOf(list(PURPOSES)))
    description = fields.String()
    granted = fields.Boolean()
    updated_at = fields.AwareDateTime(allow_none=True)
    source = fields.String(allow_none=True)


class ConsentEventSchema(Schema):
    purpose = fields.String()
    action = fields.String(validate=validate.OneOf(["granted", "withdrawn"]))
    source = fields.String()
    actor = fields.String(allow_none=True)
    at = fields.AwareDateTime()


class ConsentListSchema(Schema):
    member_id = fields.String(required=True)
    consents = fields.List(fields.Nested(ConsentSchema), required=True)
    history = fields.List(fields.Nested(ConsentEventSchema), required=True)


class ConsentUpdateSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    granted = fields.Boolean(required=True)
    source = fields.String(load_default="backend", validate=validate.OneOf(SOURCES))
    actor = fields.String(
        validate=validate.Length(1, 128),
        metadata={"description": "Who recorded it (an agent id, a system); defaults to the key"},
    )
