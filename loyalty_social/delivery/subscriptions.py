"""Subscriptions: the endpoints that receive our signed outbound events, each with its
``whsec_`` secret (shown once, kept encrypted), and the per-process cache of who subscribes to
what that publishing reads on the evaluation hot path."""

from __future__ import annotations

import time

from flask import current_app
from sqlalchemy import select

from .. import audit, crypto
from ..errors import Problem
from ..extensions import db
from ..ids import new_id
from ..sql import in_pipeline
from ..targets import TargetRefused, check_url
from ..timeutil import utcnow
from ..webhook_signing import generate_secret
from .models import EVENT_TYPES, Subscription


def add_subscription(
    url: str, event_types: list[str], description: str | None = None
) -> tuple[Subscription, str]:
    """Register an endpoint; returns it and its ``whsec_`` secret (shown once, kept encrypted).

    An endpoint on a private address (its hostname resolved now) is refused: see ``targets``.
    """
    unknown = sorted(set(event_types) - set(EVENT_TYPES))
    if unknown or not event_types:
        raise Problem(
            "validation-failed",
            f"Unknown event types: {', '.join(unknown) or '(none given)'}.",
            known_types=list(EVENT_TYPES),
        )
    try:
        check_url(url, current_app.config["ALLOW_PRIVATE_TARGETS"])
    except TargetRefused as refused:
        raise Problem("validation-failed", str(refused), errors={"url": [str(refused)]}) from None
    secret = generate_secret()
    subscription = Subscription(
        id=new_id("sub"),
        url=url,
        event_types=sorted(set(event_types)),
        secret_encrypted=crypto.encrypt(secret),
        description=description,
        enabled=True,
        created_at=utcnow(),
    )
    db.session.add(subscription)
    audit.record(
        "subscription.created",
        target=("subscription", subscription.id),
        after={"url": url, "event_types": subscription.event_types},
    )
    db.session.commit()
    forget_subscribers()
    return subscription, secret


def list_subscriptions() -> list[Subscription]:
    return list(db.session.scalars(select(Subscription).order_by(Subscription.id)))


def get_subscription(subscription_id: str) -> Subscription:
    found = db.session.get(Subscription, subscription_id)
    if found is None:
        raise Problem("not-found", f"No subscription {subscription_id!r}.")
    return found


def disable_subscription(subscription_id: str) -> Subscription:
    """Stop sending to it (its past deliveries stay inspectable; pending ones fail)."""
    found = get_subscription(subscription_id)
    if found.enabled:
        found.enabled = False
        audit.record(
            "subscription.disabled",
            target=("subscription", subscription_id),
            before={"enabled": True},
            after={"enabled": False},
        )
    db.session.commit()
    forget_subscribers()
    return found


def award_events_published() -> bool:
    """Does recording an award publish events (is anyone subscribed to them)?"""
    return bool(subscribers("award.created") or subscribers("award.delivered"))


def subscribers(event_type: str) -> list[str]:
    """Ids of enabled subscriptions to ``event_type``, from a short-lived per-process cache
    (publishing sits on the evaluation hot path). Not refreshed inside a write pipeline,
    where nothing may be read: the answer is then at most one batch older."""
    cache = current_app.extensions.get("loyalty_social.delivery.subscribers")
    ttl = current_app.config["SUBSCRIPTION_CACHE_SECONDS"]
    expired = cache is None or time.monotonic() - cache[0] >= ttl
    if expired and (cache is None or not in_pipeline(db.session.connection())):
        by_type: dict[str, list[str]] = {}
        rows = db.session.execute(
            select(Subscription.id, Subscription.event_types).where(Subscription.enabled)
        )
        for subscription_id, types in rows:
            for name in types:
                by_type.setdefault(name, []).append(subscription_id)
        cache = (time.monotonic(), by_type)
        current_app.extensions["loyalty_social.delivery.subscribers"] = cache
    return cache[1].get(event_type, [])


def forget_subscribers() -> None:
    current_app.extensions.pop("loyalty_social.delivery.subscribers", None)
