"""Wire format of consent for the loyalty backend."""

from marshmallow import EXCLUDE, Schema, fields, validate

STATES = ["granted", "withdrawn", "not_asked", "renewal_needed"]


class ConsentSchema(Schema):
    purpose = fields.String()
    label = fields.String(metadata={"description": "The purpose's short name"})
    description = fields.String(metadata={"description": "What the member agrees to"})
    policy = fields.String(metadata={"description": "The policy text members are shown now"})
    policy_version = fields.Integer(metadata={"description": "The version of that text"})
    state = fields.String(
        validate=validate.OneOf(STATES),
        metadata={
            "description": "renewal_needed: granted under a policy version that now needs "
            "fresh consent (it does not count)"
        },
    )
    granted = fields.Boolean(metadata={"description": "Does the consent count now?"})
    given_version = fields.Integer(
        allow_none=True, metadata={"description": "Policy version of the latest decision"}
    )
    updated_at = fields.AwareDateTime(allow_none=True)
    source = fields.String(allow_none=True)


class ConsentEventSchema(Schema):
    id = fields.String()
    purpose = fields.String()
    action = fields.String(validate=validate.OneOf(["granted", "withdrawn"]))
    policy_version = fields.Integer()
    source = fields.String(validate=validate.OneOf(["portal", "backend", "import"]))
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
    source = fields.String(load_default="backend", validate=validate.OneOf(["portal", "backend"]))
    actor = fields.String(
        validate=validate.Length(1, 128),
        metadata={"description": "Who recorded it (an agent id, a system); defaults to the key"},
    )
    policy_version = fields.Integer(
        validate=validate.Range(min=1),
        metadata={"description": "The policy version the member was shown; default: current"},
    )
