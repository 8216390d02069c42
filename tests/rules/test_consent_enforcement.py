"""Targeted awards pay only with consent to targeted rewards at the moment they are paid:
approval of a held award checks it again, and a withdrawal rejects the held ones."""

from __future__ import annotations

import copy

from loyalty_social.consent import service as consent
from loyalty_social.delivery.models import Delivery
from loyalty_social.extensions import db
from loyalty_social.rewards.models import Award, LedgerEntry
from loyalty_social.settings import load_settings

from .conftest import auth, balance, make_rule, review, send

CONSENT = "/api/v1/members/M-1/consents/targeted_rewards"


def held_targeted(app) -> str:
    make_rule(
        app,
        targeted=True,
        rewards=[{"kind": "fixed", "points": 50}],
        hold={"above_points": 1},
        limits={"per_member": [{"period": "day", "count": 1}]},
    )
    client = app.test_client()
    assert client.put(CONSENT, json={"granted": True}, headers=auth(app)).status_code == 200
    held = send(app, "review.published", data=review("a"))
    assert held["awards"] == [] and len(held["held"]) == 1
    return held["held"][0]["award_id"]


def paid_anything(app, award_id: str) -> bool:
    with app.app_context():
        ledger = db.session.query(LedgerEntry).filter_by(award_id=award_id).count()
        outbox = db.session.query(Delivery).filter_by(award_id=award_id).count()
        return bool(ledger or outbox)


def test_hold_withdraw_approve_pays_nothing_and_says_why(rapp):
    award_id = held_targeted(rapp)
    client = rapp.test_client()
    assert client.put(CONSENT, json={"granted": False}, headers=auth(rapp)).status_code == 200
    with rapp.app_context():
        award = db.session.get(Award, award_id)
        assert (award.status, award.decided_by) == ("rejected", "consent")
        assert "withdrew consent to targeted rewards" in award.reason

    approved = client.post(f"/api/v1/awards/{award_id}/approve", headers=auth(rapp))
    assert approved.status_code == 409
    assert approved.json["type"].endswith("/award-not-held")
    assert "withdrew consent to targeted rewards" in approved.json["detail"]
    assert balance(rapp) == 0 and not paid_anything(rapp, award_id)
    # The day's one award it held was given back: the member can earn again once they consent.
    client.put(CONSENT, json={"granted": True}, headers=auth(rapp))
    assert len(send(rapp, "review.published", data=review("b"))["held"]) == 1


def test_approval_without_counting_consent_is_refused_and_the_award_stays_held(
    rapp, sqlite_config, make_app
):
    award_id = held_targeted(rapp)
    purposes = copy.deepcopy(load_settings({"ENV": "testing"}).CONSENT_PURPOSES)
    purposes["targeted_rewards"].update(policy="Stricter.", requires_fresh_consent=True)
    bumped = make_app(sqlite_config | {"CONSENT_PURPOSES": purposes})
    bumped.config["SEEDED"] = rapp.config["SEEDED"]
    client = bumped.test_client()

    refused = client.post(f"/api/v1/awards/{award_id}/approve", headers=auth(bumped))
    assert refused.status_code == 409 and refused.json["type"].endswith("/consent-required")
    with bumped.app_context():
        assert db.session.get(Award, award_id).status == "held"
    assert balance(bumped) == 0 and not paid_anything(bumped, award_id)

    with bumped.app_context():
        consent.set_consent("M-1", "targeted_rewards", True, "portal", "M-1")
        db.session.commit()
    approved = client.post(f"/api/v1/awards/{award_id}/approve", headers=auth(bumped))
    assert approved.status_code == 200 and approved.json["status"] == "granted"
    assert balance(bumped) == 50
