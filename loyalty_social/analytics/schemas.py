from marshmallow import RAISE, Schema, fields, validate

from ..wire_fields import WholeNumber
from .queries import CHARTS


class WindowSchema(Schema):
    class Meta:
        unknown = RAISE  # an unknown parameter is a mistake worth a 422

    since = fields.Date(metadata={"description": "first UTC day (default: 30 days back)"})
    until = fields.Date(metadata={"description": "last UTC day, included (default: today)"})


class SeriesQuerySchema(WindowSchema):
    chart = fields.String(required=True, validate=validate.OneOf(sorted(CHARTS)))


class SeriesRowSchema(Schema):
    day = fields.Date(required=True)
    key = fields.String(required=True, metadata={"description": "rule, network, type ..."})
    count = WholeNumber(required=True)
    amount = WholeNumber(required=True, metadata={"description": "points (0 where none)"})


class SeriesSchema(Schema):
    chart = fields.String(required=True)
    since = fields.Date(required=True)
    until = fields.Date(required=True)
    rows = fields.List(fields.Nested(SeriesRowSchema), required=True)


class FunnelStepSchema(Schema):
    step = fields.String(required=True)
    count = WholeNumber(required=True)


class FunnelSchema(Schema):
    since = fields.Date(required=True)
    until = fields.Date(required=True)
    steps = fields.List(fields.Nested(FunnelStepSchema), required=True)


class ConsentRateSchema(Schema):
    purpose = fields.String(required=True)
    decided = WholeNumber(required=True)
    opted_in = WholeNumber(required=True)
    rate = fields.Float(allow_none=True, required=True, metadata={"description": "percent"})


class ConsentRatesSchema(Schema):
    purposes = fields.List(fields.Nested(ConsentRateSchema), required=True)


class AdvocatesQuerySchema(Schema):
    class Meta:
        unknown = RAISE  # an unknown parameter is a mistake worth a 422

    limit = WholeNumber(load_default=20, validate=validate.Range(1, 100))


class AdvocateSchema(Schema):
    member_id = fields.String(required=True)
    points = WholeNumber(required=True)
    awards = WholeNumber(required=True)


class AdvocatesSchema(Schema):
    items = fields.List(fields.Nested(AdvocateSchema), required=True)
