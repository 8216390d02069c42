"""Fixtures of the rules tests: an app with a source and a marketer key, events stored
directly (the intake path has its own tests) and processed by the real process_events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from loyalty_social.extensions import db
from loyalty_social.ids import new_id
from loyalty_social.intake.catalogue import lookup
from loyalty_social.intake.models import ActivityEvent
from loyalty_social.rules import processing, service

from ..helpers import seed

T0 = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@pytest.fixture
def rapp(sqlite_config, make_app):
    """The embedded default (SQLite, in-process jobs): fast, most behaviour tests."""
    app = make_app(sqlite_config)
    app.config["SEEDED"] = seed(app, rules=(), scopes=("marketer", "read", "backend", "admin"))
    return app


@pytest.fixture
def pg_rapp(pg_config, make_app):
    app = make_app(pg_config)
    app.config["SEEDED"] = seed(app, rules=(), scopes=("marketer", "read", "backend", "admin"))
    return app


@pytest.fixture(params=["rapp", "pg_rapp"])
def any_app(request):
    """The same test on SQLite and on PostgreSQL."""
    return request.getfixturevalue(request.param)


def auth(app) -> dict:
    return app.config["SEEDED"]["auth"]


def review(review_id="r-1", sku="SKU-1", text_length=300, rating=5, **extra) -> dict:
    return {
        "review_id": review_id,
        "platform": "trustreviews",
        "sku": sku,
        "rating": rating,
        "text_length": text_length,
        **extra,
    }


def share(url=None, network="x") -> dict:
    return {"network": network, "url": url or f"https://ex.test/{uuid.uuid4()}"}


def store(
    app, event_type, member_id="M-1", data=None, evidence="verified", at=T0, received=None
) -> str:
    """Store one pending event as intake would (received now, or at ``received``)."""
    data = data if data is not None else share()
    kind = lookup(event_type, 1)
    data = kind.schema().load(data)
    with app.app_context():
        event_id = new_id("evt")
        db.session.add(
            ActivityEvent(
                id=event_id,
                source_name="backend",
                webhook_id=uuid.uuid4().hex,
                type=event_type,
                type_version=1,
                member_id=member_id,
                occurred_at=at,
                received_at=received or datetime.now(UTC),
                evidence=evidence,
                evidence_claimed=evidence,
                object_key=kind.object_key(data),
                data=data,
                body_sha256="0" * 64,
                status="pending",
                attempts=0,
            )
        )
        db.session.commit()
    return event_id


def process(app, *event_ids) -> None:
    with app.app_context():
        processing.process_events(list(event_ids))
        db.session.remove()


def send(
    app, event_type, member_id="M-1", data=None, evidence="verified", at=T0, received=None
) -> dict:
    """Store and process one event; returns its outcome."""
    event_id = store(app, event_type, member_id, data, evidence, at, received)
    process(app, event_id)
    return outcome(app, event_id)


def outcome(app, event_id) -> dict:
    with app.app_context():
        event = db.session.get(ActivityEvent, event_id)
        assert event.status == "processed", event.error
        return {**event.outcome, "id": event_id}


def make_rule(app, status="active", **doc) -> str:
    doc.setdefault("name", "a rule")
    doc.setdefault("event_types", ["review.published"])
    doc.setdefault("rewards", [{"kind": "fixed", "points": 10}])
    with app.app_context():
        return service.create_rule(doc, actor="tests", status=status).id


def balance(app, member_id="M-1") -> int:
    from loyalty_social.rewards.service import balance as read

    with app.app_context():
        return read(member_id)


def paid(result: dict) -> int:
    return sum(a["points"] for a in result["awards"])
