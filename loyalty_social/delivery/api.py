"""The operator's REST view of delivery: inspect the outbox, retry what failed, subscriptions."""

from flask.views import MethodView
from flask_smorest import Blueprint

from ..access.auth import SECURITY, require_scope
from . import inspection, subscriptions
from .schemas import (
    DeliveryDetailSchema,
    DeliveryPageSchema,
    DeliveryQuerySchema,
    DeliverySchema,
    RetriedSchema,
    SubscriptionCreatedSchema,
    SubscriptionCreateSchema,
    SubscriptionListSchema,
    SubscriptionSchema,
)

SUBSCRIPTION_EXAMPLE = {
    "url": "https://crm.example.com/hooks/loyalty",
    "event_types": ["award.created", "award.reversed"],
    "description": "CRM timeline",
}

deliveries_api = Blueprint(
    "deliveries",
    __name__,
    url_prefix="/api/v1/deliveries",
    description="Calls to the loyalty backend and outbound events: state, attempts, retry",
)
subscriptions_api = Blueprint(
    "subscriptions",
    __name__,
    url_prefix="/api/v1/subscriptions",
    description="Endpoints that receive signed outbound events",
)


@deliveries_api.route("")
class Deliveries(MethodView):
    @require_scope("operator")
    @deliveries_api.doc(security=SECURITY)
    @deliveries_api.arguments(DeliveryQuerySchema, location="query")
    @deliveries_api.response(200, DeliveryPageSchema)
    def get(self, query):
        """List deliveries, newest first; ``failed=true`` for failed and dead-lettered ones."""
        items, next_after = inspection.list_deliveries(**query)
        return {"items": items, "next_after": next_after}


@deliveries_api.route("/failed/retry")
class DeliveriesRetryAll(MethodView):
    @require_scope("operator")
    @deliveries_api.doc(security=SECURITY)
    @deliveries_api.response(202, RetriedSchema)
    def post(self):
        """Send every failed and dead-lettered delivery again, with a fresh retry horizon."""
        return {"retried": inspection.retry_all()}


@deliveries_api.route("/<delivery_id>")
class DeliveryItem(MethodView):
    @require_scope("operator")
    @deliveries_api.doc(security=SECURITY)
    @deliveries_api.response(200, DeliveryDetailSchema)
    def get(self, delivery_id):
        """One delivery with its payload and every attempt."""
        row = inspection.get_delivery(delivery_id)
        return {**_columns(row), "history": inspection.attempts_of(row.id)}


@deliveries_api.route("/<delivery_id>/retry")
class DeliveryRetry(MethodView):
    @require_scope("operator")
    @deliveries_api.doc(security=SECURITY)
    @deliveries_api.response(202, DeliverySchema)
    def post(self, delivery_id):
        """Send a failed or dead-lettered delivery again (409 if it is not)."""
        return inspection.retry(delivery_id)


@subscriptions_api.route("")
class Subscriptions(MethodView):
    @require_scope("operator")
    @subscriptions_api.doc(security=SECURITY)
    @subscriptions_api.response(200, SubscriptionListSchema)
    def get(self):
        """Every subscription, enabled or not."""
        return {"items": subscriptions.list_subscriptions()}

    @require_scope("operator")
    @subscriptions_api.doc(security=SECURITY)
    @subscriptions_api.arguments(SubscriptionCreateSchema, example=SUBSCRIPTION_EXAMPLE)
    @subscriptions_api.response(201, SubscriptionCreatedSchema)
    def post(self, body):
        """Register an endpoint for event types; the answer holds its signing secret, once."""
        subscription, secret = subscriptions.add_subscription(**body)
        return {**_columns(subscription), "secret": secret}


@subscriptions_api.route("/<subscription_id>")
class SubscriptionItem(MethodView):
    @require_scope("operator")
    @subscriptions_api.doc(security=SECURITY)
    @subscriptions_api.response(200, SubscriptionSchema)
    def get(self, subscription_id):
        return subscriptions.get_subscription(subscription_id)

    @require_scope("operator")
    @subscriptions_api.doc(security=SECURITY)
    @subscriptions_api.response(200, SubscriptionSchema)
    def delete(self, subscription_id):
        """Disable: nothing more is sent; its deliveries stay inspectable."""
        return subscriptions.disable_subscription(subscription_id)


def _columns(row) -> dict:
    """A model's column values, to extend with fields it does not hold."""
    return {attr.key: getattr(row, attr.key) for attr in row.__mapper__.column_attrs}
