"""Outbound events: subscriptions, Standard Webhooks signatures, publishing from other features."""

from __future__ import annotations

import json

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from loyalty_social.delivery import outbox
from loyalty_social.extensions import db
from loyalty_social.webhook_signing import generate_secret

from ..conftest import run_cli
from ..helpers import seed, wait_until
from .conftest import FAST
from .support import post, rows, shares, start_delivering, wait_for


def test_award_events_reach_a_subscriber_signed_and_in_order(
    stack_config, delivery_app, standin, start_worker
):
    receiver = standin()
    config = {**stack_config, **FAST}  # the ledger adapter: awards are delivered at once
    app = delivery_app(config)
    seeded = seed(app)
    added = run_cli(
        config,
        "subscription",
        "add",
        f"{receiver.url}/events",
        "--event",
        "award.created",
        "--event",
        "award.delivered",
        "--description",
        "CRM",
    )
    assert added.returncode == 0, added.stderr
    subscription_id, secret = added.stdout.split()
    assert secret.startswith("whsec_")
    start_delivering(config, start_worker)
    post(app.test_client(), seeded["secret"], *shares(2))

    wait_until(lambda: len(receiver.events) == 4)
    wait_for(app, {"delivered": 4}, target=subscription_id)
    received = [Webhook(secret).verify(body, headers) for body, headers in receiver.events]
    by_award: dict[str, list[str]] = {}
    for event in received:
        by_award.setdefault(event["data"]["award_id"], []).append(event["type"])
    assert list(by_award.values()) == [["award.created", "award.delivered"]] * 2
    assert {event["data"]["points"] for event in received} == {10}

    body, headers = receiver.events[0]
    assert headers["Webhook-Id"].startswith("msg_")
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(body, headers)
    stored = rows(app, target=subscription_id)
    assert {row.idempotency_key for row in stored} == {h["Webhook-Id"] for _, h in receiver.events}


def test_other_features_publish_in_their_own_transaction(sqlite_config, delivery_app, standin):
    receiver = standin()
    app = delivery_app({**sqlite_config, **FAST})
    seeded = seed(app)
    client = app.test_client()
    created = client.post(
        "/api/v1/subscriptions",
        json={"url": f"{receiver.url}/events", "event_types": ["consent.changed"]},
        headers=seeded["auth"],
    )
    assert created.status_code == 201, created.json
    subscription, secret = created.json, created.json["secret"]
    listed = client.get("/api/v1/subscriptions", headers=seeded["auth"]).json["items"]
    assert [item["id"] for item in listed] == [subscription["id"]] and "secret" not in listed[0]
    bad = client.post(
        "/api/v1/subscriptions",
        json={"url": f"{receiver.url}/events", "event_types": ["award.exploded"]},
        headers=seeded["auth"],
    )
    assert bad.status_code == 422
    not_http = client.post(
        "/api/v1/subscriptions",
        json={"url": "ftp://crm.example/x", "event_types": ["consent.changed"]},
        headers=seeded["auth"],
    )
    assert not_http.status_code == 422

    with app.app_context():
        assert outbox.publish("award.created", {"award_id": "x"}) is None  # nobody subscribes
        outbox.publish("consent.changed", {"member_id": "M-1", "purpose": "crm"})
        db.session.rollback()  # the caller's transaction failed: nothing may be sent
        message_id = outbox.publish("consent.changed", {"member_id": "M-2", "purpose": "crm"})
        db.session.commit()
    wait_for(app, {"delivered": 1})
    ((body, headers),) = receiver.events
    assert Webhook(secret).verify(body, headers)["data"] == {"member_id": "M-2", "purpose": "crm"}
    assert headers["Webhook-Id"] == message_id and json.loads(body)["type"] == "consent.changed"

    gone = client.delete(f"/api/v1/subscriptions/{subscription['id']}", headers=seeded["auth"])
    assert gone.status_code == 200 and gone.json["enabled"] is False
    with app.app_context():
        assert outbox.publish("consent.changed", {"member_id": "M-3"}) is None
    with pytest.raises(ValueError, match="unknown outbound event type"), app.app_context():
        outbox.publish("award.exploded", {})
