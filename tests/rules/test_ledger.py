"""Ledger: reversals (review.removed, admin), the negative-balance policy, held awards."""

import pytest

from loyalty_social.extensions import db
from loyalty_social.rewards.models import Award, Balance

from .conftest import auth, balance, make_rule, paid, review, send


def _removed(review_id):
    return {"review_id": review_id, "platform": "trustreviews"}


@pytest.mark.parametrize(("policy", "final", "debt"), [("floor", 0, 30), ("allow", -30, 0)])
def test_a_reversal_larger_than_the_balance_follows_the_policy(rapp, policy, final, debt):
    rapp.config["NEGATIVE_BALANCE_POLICY"] = policy
    make_rule(rapp, rewards=[{"kind": "fixed", "points": 50}])
    make_rule(rapp, name="spend", event_types=["social.shared"])
    send(rapp, "review.published", data=review("a"))
    with rapp.app_context():  # the member spent 30 at the loyalty program: simulate with -30
        db.session.get(Balance, "M-1").points = 20
        db.session.commit()
    removed = send(rapp, "review.removed", data=_removed("a"))
    assert len(removed["reversed"]) == 1
    assert balance(rapp) == final
    with rapp.app_context():
        assert db.session.get(Balance, "M-1").debt == debt
    client = rapp.test_client()
    ledger = client.get("/api/v1/members/M-1/ledger", headers=auth(rapp)).json["items"]
    assert ledger[0]["kind"] == "reversal" and ledger[0]["debt"] == debt
    assert ledger[0]["points"] == (-20 if policy == "floor" else -50)
    # the next award repays the debt first (floor), each repayment a ledger entry
    assert paid(send(rapp, "social.shared")) == 10
    assert balance(rapp) == (0 if policy == "floor" else -20)
    if policy == "floor":
        kinds = [
            e["kind"]
            for e in client.get("/api/v1/members/M-1/ledger", headers=auth(rapp)).json["items"]
        ]
        assert kinds[:2] == ["debt_repayment", "award"]
        with rapp.app_context():
            assert db.session.get(Balance, "M-1").debt == 20


def test_admin_reverses_an_award_with_a_reason(rapp):
    make_rule(rapp)
    result = send(rapp, "review.published", data=review("a"))
    award_id = result["awards"][0]["award_id"]
    client = rapp.test_client()
    reversed_ = client.post(
        f"/api/v1/awards/{award_id}/reverse", json={"reason": "fraud"}, headers=auth(rapp)
    )
    assert reversed_.status_code == 200, reversed_.json
    assert reversed_.json["status"] == "reversed" and "fraud" in reversed_.json["reason"]
    assert balance(rapp) == 0
    again = client.post(
        f"/api/v1/awards/{award_id}/reverse", json={"reason": "x"}, headers=auth(rapp)
    )
    assert again.status_code == 409
    assert again.json["type"].endswith("/award-not-granted")


def test_held_awards_wait_for_approval(rapp):
    rule_id = make_rule(
        rapp,
        rewards=[{"kind": "fixed", "points": 500}],
        hold={"above_points": 100},
        limits={"per_member": [{"period": "day", "count": 1}]},
    )
    held = send(rapp, "review.published", data=review("a"))
    assert held["awards"] == [] and held["held"][0]["points"] == 500
    assert balance(rapp) == 0
    client = rapp.test_client()
    queue = client.get("/api/v1/awards?status=held", headers=auth(rapp)).json["items"]
    assert [a["rule_id"] for a in queue] == [rule_id]
    # rejected: the daily limit it held is given back, so the next review pays (is held)
    rejected = client.post(
        f"/api/v1/awards/{queue[0]['id']}/reject", json={"reason": "spam"}, headers=auth(rapp)
    )
    assert rejected.status_code == 200 and rejected.json["status"] == "rejected"
    second = send(rapp, "review.published", data=review("b"))
    award_id = second["held"][0]["award_id"]
    approved = client.post(f"/api/v1/awards/{award_id}/approve", headers=auth(rapp))
    assert approved.status_code == 200 and approved.json["status"] == "granted"
    assert approved.json["decided_by"] == "tests"
    assert balance(rapp) == 500
    twice = client.post(f"/api/v1/awards/{award_id}/approve", headers=auth(rapp))
    assert twice.status_code == 409


def test_velocity_flagged_members_are_held(rapp):
    rapp.config["VELOCITY_MAX_EVENTS_PER_DAY"] = 2
    make_rule(rapp, event_types=["social.shared"], hold={"flagged_members": True})
    results = [send(rapp, "social.shared") for _ in range(3)]
    assert [len(r["awards"]) for r in results] == [1, 1, 0]
    assert "velocity" in results[2]["explanations"][0]["reason"]


def test_removed_review_rejects_its_held_award(rapp):
    make_rule(
        rapp, hold={"above_points": 1}, limits={"per_member": [{"period": "day", "count": 1}]}
    )
    held = send(rapp, "review.published", data=review("a"))
    removal = send(rapp, "review.removed", data=_removed("a"))
    assert removal["reversed"] == []  # nothing was paid, so nothing is clawed back
    with rapp.app_context():
        assert db.session.get(Award, held["held"][0]["award_id"]).status == "rejected"
    assert balance(rapp) == 0
    # The day's one award it held is given back: the next review is held again.
    assert len(send(rapp, "review.published", data=review("b"))["held"]) == 1
