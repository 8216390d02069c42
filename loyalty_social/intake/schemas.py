"""Wire formats of intake: the webhook envelope and the operator's event views."""

from marshmallow import EXCLUDE, Schema, fields, validate

from .catalogue import EVIDENCE_LEVELS

EVENT_STATUSES = ("pending", "processed", "failed")


class EnvelopeSchema(Schema):
    """What every webhook body looks like; ``data`` is checked by the type's own schema."""

    class Meta:
        unknown = EXCLUDE

    type = fields.String(
        required=True, metadata={"description": "Catalogue type, e.g. social.shared"}
    )
    version = fields.Integer(
        load_default=1, validate=validate.Range(min=1), metadata={"description": "Type version"}
    )
    timestamp = fields.AwareDateTime(
        required=True, metadata={"description": "When the activity happened (ISO 8601, with zone)"}
    )
    member_id = fields.String(
        required=True,
        validate=validate.Length(1, 128),
        metadata={"description": "The loyalty program's member id"},
    )
    evidence = fields.String(
        load_default="claimed",
        validate=validate.OneOf(EVIDENCE_LEVELS),
        metadata={"description": "How strongly the activity is proven"},
    )
    data = fields.Dict(required=True, keys=fields.String())


class EventSchema(Schema):
    id = fields.String()
    source = fields.String(attribute="source_name")
    webhook_id = fields.String()
    type = fields.String()
    version = fields.Integer(attribute="type_version")
    member_id = fields.String()
    occurred_at = fields.AwareDateTime()
    received_at = fields.AwareDateTime()
    evidence = fields.String()
    evidence_claimed = fields.String()
    object_key = fields.String(allow_none=True)
    data = fields.Dict()
    status = fields.String(validate=validate.OneOf(EVENT_STATUSES))
    attempts = fields.Integer()
    processed_at = fields.AwareDateTime(allow_none=True)
    outcome = fields.Dict(allow_none=True)
    error = fields.String(allow_none=True)


class EventQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    status = fields.String(validate=validate.OneOf(EVENT_STATUSES))
    source = fields.String(validate=validate.Length(1, 64))
    type = fields.String(validate=validate.Length(1, 64))
    member_id = fields.String(validate=validate.Length(1, 128))
    after = fields.String(
        validate=validate.Length(1, 40), metadata={"description": "Cursor: the last id seen"}
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))


class EventPageSchema(Schema):
    items = fields.List(fields.Nested(EventSchema), required=True)
    next_after = fields.String(allow_none=True, required=True)
