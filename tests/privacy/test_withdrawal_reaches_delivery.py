"""Withdrawing consent to targeted rewards reaches what is not delivered yet, exactly once,
against a real worker process delivering at the same time: each targeted award's credit ends
either delivered (the backend applied it once, the award stands) or cancelled (the backend
never applied it, the award is reversed once here); offer grants not delivered are cancelled
and give their code back. On PostgreSQL + Redis, the backend a stand-in HTTP server."""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa

from loyalty_social.access.service import create_key
from loyalty_social.consent.service import set_consent
from loyalty_social.delivery.models import Delivery
from loyalty_social.extensions import db
from loyalty_social.rewards import offers
from loyalty_social.rewards.models import Award, Balance, LedgerEntry, OfferCode, OfferGrant
from loyalty_social.rules.service import create_rule

from ..delivery.conftest import http_config, standin  # noqa: F401  (fixture)
from ..helpers import envelope, seed, signed, wait_until

MEMBER = "M-targeted"
SHARES = 24


def outbox(app) -> list[Delivery]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Delivery).where(Delivery.target == "backend")))
        db.session.expunge_all()
        db.session.commit()
    return rows


def test_withdrawal_cancels_what_is_not_delivered_exactly_once(
    pg_config,
    make_app,
    standin,  # noqa: F811
    start_worker,
):
    backend = standin()
    backend.latency = 0.15
    backend.drop_rate = 0.2  # applied, answer lost: retried, never cancelled
    config = http_config(pg_config, backend.url, DELIVERY_BATCH_SIZE=2, DELIVERY_CONCURRENCY=1)
    app = make_app(config)
    seeded = seed(app, rules=())
    with app.app_context():
        offer = offers.create_offer(
            {"name": "Early access", "product": "SKU-9", "uses_codes": True}, actor="tests"
        )
        offers.import_codes(offer.id, ["EARLY-1"])
        create_rule(
            {
                "name": "tailored shares",
                "event_types": ["social.shared"],
                "rewards": [
                    {"kind": "fixed", "points": 10},
                    {"kind": "offer", "offer_id": offer.id},
                ],
                "targeted": True,
            },
            actor="tests",
            status="active",
        )
        set_consent(MEMBER, "targeted_rewards", True, "backend", "tests")
        key = create_key("crm", ["backend"])
        db.session.commit()
    client = app.test_client()
    for _ in range(SHARES):
        raw, headers = signed(seeded["secret"], envelope(member_id=MEMBER))
        assert client.post("/webhooks/backend", data=raw, headers=headers).status_code == 202
    worker = start_worker(config)
    wait_until(lambda: len(backend.applied_keys()) >= 3, timeout=90)

    withdrawn = client.put(
        f"/api/v1/members/{MEMBER}/consents/targeted_rewards",
        json={"granted": False},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert withdrawn.status_code == 200, withdrawn.text

    def settled():
        rows = outbox(app)
        return len(rows) >= SHARES and all(r.status in ("delivered", "cancelled") for r in rows)

    wait_until(settled, timeout=120)
    rows = outbox(app)
    credits = {r.idempotency_key: r.status for r in rows if r.kind == "award"}
    assert len(credits) == SHARES, worker.log()
    delivered = {k for k, s in credits.items() if s == "delivered"}
    cancelled = {k for k, s in credits.items() if s == "cancelled"}
    assert delivered and cancelled, credits  # the withdrawal met deliveries in progress
    applied = backend.applied_keys()
    assert delivered <= applied and not (cancelled & applied)
    assert all(count == 1 for count in backend.applied.values())
    debits = [r for r in rows if r.kind == "reversal"]
    assert len(debits) == len(cancelled) and {r.status for r in debits} == {"cancelled"}
    assert not any(k.endswith(".reversal") for k in applied)  # nothing to take back there
    with app.app_context():
        awards = {a.id: a.status for a in db.session.scalars(sa.select(Award))}
        assert {a for a, s in awards.items() if s == "granted"} == delivered
        assert {a for a, s in awards.items() if s == "reversed"} == cancelled
        kinds = Counter((e.award_id, e.kind) for e in db.session.scalars(sa.select(LedgerEntry)))
        assert all(kinds[(a, "reversal")] == 1 for a in cancelled)  # exactly once
        assert not any(kinds[(a, "reversal")] for a in delivered)
        balance = db.session.get(Balance, MEMBER)
        assert balance.points == 10 * len(delivered) == backend.points[MEMBER]
        [grant] = db.session.scalars(sa.select(OfferGrant))
        grant_row = next(r for r in rows if r.kind == "offer_grant")
        code = db.session.scalars(sa.select(OfferCode)).one()
        if grant_row.status == "cancelled":  # not delivered: the code goes back to the pool
            assert grant.status == "cancelled" and code.grant_id is None
            assert grant.id not in applied
        else:
            assert grant.status == "granted" and grant.id in applied
        db.session.commit()
