"""Wire format of export and erasure."""

from marshmallow import EXCLUDE, Schema, fields, validate

from ..wire_fields import WholeNumber


class ErasureSchema(Schema):
    id = fields.String(required=True)
    member_hash = fields.String(
        required=True, metadata={"description": "Keyed hash of the member id (the tombstone)"}
    )
    kind = fields.String(
        required=True, metadata={"description": "erasure (first), repeat, or replay (restore)"}
    )
    actor = fields.String(required=True)
    at = fields.AwareDateTime(required=True)
    counts = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "Records removed or anonymised, by part and kind"},
    )


class ErasureResultSchema(ErasureSchema):
    removed_now = fields.Boolean(
        required=True, metadata={"description": "False: already erased, nothing more found"}
    )


class ErasurePageSchema(Schema):
    items = fields.List(fields.Nested(ErasureSchema), required=True)
    next_after = fields.String(allow_none=True, required=True)


class ErasureQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    after = fields.String(validate=validate.Length(1, 40))
    limit = WholeNumber(load_default=50, validate=validate.Range(1, 500))


class ExportSchema(Schema):
    member_id = fields.String(required=True)
    exported_at = fields.String(required=True)
    erased = fields.Boolean(required=True)
    erasures = fields.List(fields.Nested(ErasureSchema), required=True)
    records = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(allow_none=True),
        required=True,
        metadata={
            "description": "Everything held, by part: member, identity (linked accounts, never "
            "tokens; flags), consents (current and history), events (payloads), "
            "limit_counters, rewards (balance, awards, ledger, offer grants and codes), "
            "deliveries, portal_sessions, and any part a feature adds"
        },
    )
