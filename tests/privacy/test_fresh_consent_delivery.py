"""Consent is checked again when a targeted award's credit is sent: after a policy version
that needs fresh consent, a credit not sent yet is cancelled at the delivery job's claim and
the award taken back (the job `rewards.cancel_undelivered`), once; the backend hears nothing."""

from __future__ import annotations

import copy
import json

import sqlalchemy as sa
from rq import SimpleWorker

from loyalty_social.consent.service import set_consent
from loyalty_social.delivery.models import Delivery
from loyalty_social.extensions import db
from loyalty_social.intake.committer import pipeline
from loyalty_social.queue import redis_connection, rq_queues
from loyalty_social.rewards.models import Award, Balance, LedgerEntry
from loyalty_social.rules.service import create_rule

from ..consent.test_consent_model import DEFAULTS
from ..delivery.conftest import http_config, standin  # noqa: F401  (fixture)
from ..helpers import drain, envelope, seed, signed

MEMBER = "M-fresh"


def test_credit_waiting_when_consent_stops_counting_is_cancelled(pg_config, make_app, standin):  # noqa: F811
    backend = standin()
    config = http_config(pg_config, backend.url)
    app = make_app(config)
    seeded = seed(app, rules=())
    with app.app_context():
        create_rule(
            {
                "name": "tailored shares",
                "event_types": ["social.shared"],
                "rewards": [{"kind": "fixed", "points": 10}],
                "targeted": True,
            },
            actor="tests",
            status="active",
        )
        set_consent(MEMBER, "targeted_rewards", True, "portal", MEMBER)
        db.session.commit()
    raw, headers = signed(seeded["secret"], envelope(member_id=MEMBER))
    assert app.test_client().post("/webhooks/backend", data=raw, headers=headers).status_code == 202
    assert pipeline(app).dispatcher.flush(30)
    with app.app_context():  # processed and paid here; its credit waits for a delivery job
        SimpleWorker(rq_queues(names=("events",)), connection=redis_connection()).work(burst=True)
        [credit] = db.session.scalars(sa.select(Delivery).where(Delivery.kind == "award"))
        assert credit.status == "pending" and credit.consent_purpose == "targeted_rewards"
        db.session.commit()

    purposes = copy.deepcopy(DEFAULTS)
    purposes["targeted_rewards"].update(policy="New words.", requires_fresh_consent=True)
    bumped = make_app(config | {"CONSENT_PURPOSES": json.dumps(purposes)})
    drain(bumped)  # a real RQ worker: the delivery job, then rewards.cancel_undelivered
    drain(bumped)
    with bumped.app_context():
        rows = {r.kind: r for r in db.session.scalars(sa.select(Delivery))}
        assert rows["award"].status == "cancelled"
        assert "withdrew consent" in rows["award"].last_error
        assert rows["reversal"].status == "cancelled"
        award = db.session.scalars(sa.select(Award)).one()
        assert award.status == "reversed"
        kinds = sorted(e.kind for e in db.session.scalars(sa.select(LedgerEntry)))
        assert kinds == ["award", "reversal"]
        assert db.session.get(Balance, MEMBER).points == 0
        db.session.commit()
    assert backend.calls == {}
