"""Wire formats of delivery: outbox rows and their attempts, subscriptions."""

from marshmallow import EXCLUDE, Schema, fields, validate

from .models import EVENT_TYPES, STATUSES

# ASCII only (non-ASCII must be percent-encoded): what a request line can carry.
URL_PATTERN = r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?([/?#][!-~]*)?$"
KINDS = ("award", "reversal", "offer_grant", "offer_redeem", "event")


class AttemptSchema(Schema):
    id = fields.String()
    outcome = fields.String(validate=validate.OneOf(("delivered", "retry", "failed")))
    status_code = fields.Integer(allow_none=True, metadata={"description": "HTTP status, if any"})
    error = fields.String(allow_none=True)
    duration_ms = fields.Integer()
    attempted_at = fields.AwareDateTime()


class DeliverySchema(Schema):
    id = fields.String()
    target = fields.String(metadata={"description": "'backend' or a subscription id"})
    kind = fields.String(validate=validate.OneOf(KINDS))
    idempotency_key = fields.String(
        metadata={"description": "Idempotency-Key (backend) or webhook-id (events)"}
    )
    event_type = fields.String(allow_none=True)
    award_id = fields.String(allow_none=True)
    after_id = fields.String(
        allow_none=True, metadata={"description": "Not sent before this delivery is delivered"}
    )
    status = fields.String(validate=validate.OneOf(STATUSES))
    attempts = fields.Integer(metadata={"description": "Tries since creation or manual retry"})
    next_attempt_at = fields.AwareDateTime()
    give_up_at = fields.AwareDateTime(
        metadata={"description": "Dead-lettered if not delivered by then"}
    )
    created_at = fields.AwareDateTime()
    delivered_at = fields.AwareDateTime(allow_none=True)
    last_status_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)


class DeliveryDetailSchema(DeliverySchema):
    payload = fields.Dict()
    history = fields.List(fields.Nested(AttemptSchema), metadata={"description": "Every try"})


class DeliveryQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    status = fields.String(validate=validate.OneOf(STATUSES))
    failed = fields.Boolean(
        load_default=False, metadata={"description": "Only failed and dead-lettered rows"}
    )
    target = fields.String(validate=validate.Length(1, 40))
    kind = fields.String(validate=validate.OneOf(KINDS))
    award_id = fields.String(validate=validate.Length(1, 40))
    after = fields.String(
        validate=validate.Length(1, 40), metadata={"description": "Cursor: the last id seen"}
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))


class DeliveryPageSchema(Schema):
    items = fields.List(fields.Nested(DeliverySchema), required=True)
    next_after = fields.String(allow_none=True, required=True)


class RetriedSchema(Schema):
    retried = fields.Integer(required=True)


class SubscriptionSchema(Schema):
    id = fields.String()
    url = fields.String()
    event_types = fields.List(fields.String())
    description = fields.String(allow_none=True)
    enabled = fields.Boolean()
    created_at = fields.AwareDateTime()


class SubscriptionCreateSchema(Schema):
    # One rule, documented (pattern) and enforced alike: http(s), a host, an optional port/path.
    url = fields.String(
        required=True,
        validate=[validate.Length(1, 2000), validate.Regexp(URL_PATTERN)],
        metadata={"description": "Where events are POSTed (http or https)"},
    )
    event_types = fields.List(
        fields.String(validate=validate.OneOf(EVENT_TYPES)),
        required=True,
        validate=validate.Length(min=1),
    )
    description = fields.String(load_default=None, validate=validate.Length(max=500))


class SubscriptionCreatedSchema(SubscriptionSchema):
    secret = fields.String(
        metadata={"description": "Standard Webhooks key (whsec_...), shown only now"}
    )


class SubscriptionListSchema(Schema):
    items = fields.List(fields.Nested(SubscriptionSchema), required=True)
