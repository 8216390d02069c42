"""The wire format of the member timeline."""

from marshmallow import EXCLUDE, Schema, fields, validate

from ..rules.fields import WholeNumber
from .service import CURSOR


class TimelineQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    cursor = fields.String(
        validate=validate.Regexp(CURSOR),
        metadata={"description": "next_cursor of the previous page (opaque)"},
    )
    limit = WholeNumber(load_default=50, validate=validate.Range(1, 200))


class TimelineItemSchema(Schema):
    id = fields.String(required=True, metadata={"description": "<source>:<id>, unique"})
    at = fields.AwareDateTime(required=True)
    source = fields.String(
        required=True,
        metadata={"description": "account | activity | award | click | consent | offer"},
    )
    kind = fields.String(
        required=True,
        metadata={
            "description": "account_linked | activity | level_changed | award | offer_granted "
            "| consent_granted | consent_withdrawn | click"
        },
    )
    details = fields.Dict(required=True)


class TimelinePageSchema(Schema):
    member_id = fields.String(required=True)
    items = fields.List(fields.Nested(TimelineItemSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)
