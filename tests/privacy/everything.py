"""A member who did everything the service records, and how to look for them afterwards."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from loyalty_social.access.service import create_key
from loyalty_social.delivery.subscriptions import add_subscription
from loyalty_social.extensions import db
from loyalty_social.features import load_models
from loyalty_social.identity.service import flag
from loyalty_social.intake.sources import add_source
from loyalty_social.rewards import offers
from loyalty_social.rules.service import create_rule

from ..helpers import drain, envelope, signed
from ..identity.conftest import Browser

MEMBER = "M-everything"


def setup_program(app) -> dict:
    """A source, a plain rule, a targeted rule with an offer and codes, a held rule, a
    subscriber of every outbound event (unreachable: its deliveries stay pending)."""
    with app.app_context():
        secret = add_source("backend", max_evidence="verified")
        offer = offers.create_offer(
            {"name": "Early boots", "product": "SKU-1", "uses_codes": True}, actor="tests"
        )
        offers.import_codes(offer.id, ["CODE-1", "CODE-2"])
        rules = [
            {
                "name": "shares",
                "event_types": ["social.shared"],
                "rewards": [{"kind": "fixed", "points": 10}],
            },
            {
                "name": "tailored reviews",
                "event_types": ["review.published"],
                "rewards": [
                    {"kind": "fixed", "points": 5},
                    {"kind": "offer", "offer_id": offer.id},
                ],
                "targeted": True,
            },
            {
                "name": "big mentions, reviewed by hand",
                "event_types": ["social.mentioned"],
                "rewards": [{"kind": "fixed", "points": 50}],
                "hold": {"above_points": 10},
            },
        ]
        for rule in rules:
            create_rule(rule, actor="tests", status="active")
        add_subscription(
            "http://127.0.0.1:9/hook",
            ["consent.changed", "social.linked", "social.unlinked", "award.created"],
        )
        admin = create_key("admin", ["admin"])
        db.session.commit()
    return {"secret": secret, "auth": {"Authorization": f"Bearer {admin}"}}


def send(client, secret: str, body: dict, webhook_id: str | None = None):
    raw, headers = signed(secret, body, webhook_id)
    return client.post("/webhooks/backend", data=raw, headers=headers), raw, headers


def do_everything(app, provider_url: str, program: dict) -> dict:
    """Consents (given, withdrawn), a portal session, a linked account with tokens, events
    that pay, hold and grant an offer with a code, outbound deliveries, a flag."""
    client = app.test_client()
    auth = program["auth"]
    base = f"/api/v1/members/{MEMBER}/consents"
    for purpose, granted in (
        ("targeted_rewards", True),
        ("social_activity_use", True),
        ("social_activity_use", False),
        ("social_profile_matching", True),
    ):
        response = client.put(f"{base}/{purpose}", json={"granted": granted}, headers=auth)
        assert response.status_code == 200, response.text
    subject = f"everyone-{uuid.uuid4().hex[:8]}"
    browser = Browser(app, provider_url)
    browser.arrive(MEMBER)
    assert browser.link(subject).status_code == 303
    sent = []
    for body in (
        envelope("social.shared", MEMBER),
        envelope(
            "review.published",
            MEMBER,
            {
                "review_id": "rv-mine-1",
                "platform": "trustreviews",
                "sku": "SKU-123",
                "rating": 5,
                "text_length": 300,
            },
        ),
        envelope(
            "social.mentioned",
            MEMBER,
            {"network": "instagram", "post_url": "https://social.test/p/mine", "reach": 1800},
        ),
    ):
        response, _, headers = send(client, program["secret"], body)
        assert response.status_code == 202, response.text
        sent.append((body, headers["webhook-id"]))
    drain(app)
    with app.app_context():
        flag("mock", subject, "repeat_link", [MEMBER, "M-someone-else"], "for review")
        db.session.commit()
    return {"subject": subject, "sent": sent, "browser": browser}


def occurrences(app, *needles: str) -> dict[str, list[str]]:
    """Every table and column whose text holds one of ``needles``: the whole database read."""
    load_models()
    found: dict[str, list[str]] = {}
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(sa.select(table)).mappings():
                for column, value in row.items():
                    text = str(value)
                    for needle in needles:
                        if needle in text:
                            found.setdefault(needle, []).append(f"{table.name}.{column}")
        db.session.commit()
    return found


def totals(app) -> tuple[int, int, int]:
    with app.app_context():
        ledger = db.session.execute(sa.text("SELECT coalesce(sum(points), 0) FROM ledger_entry"))
        balances = db.session.execute(sa.text("SELECT coalesce(sum(points), 0) FROM balance"))
        entries = db.session.execute(sa.text("SELECT count(*) FROM ledger_entry"))
        result = (ledger.scalar(), balances.scalar(), entries.scalar())
        db.session.commit()
    return result
