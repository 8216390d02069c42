"""Budgets given back inside a batch that also spends them: nothing is lost (PostgreSQL and
SQLite). Spend and release are increments written once per batch, not the totals read at its
start."""

from loyalty_social.extensions import db
from loyalty_social.rules.models import Campaign, Rule

from .conftest import auth, make_rule, outcome, process, review, send, store


def _removed(review_id):
    return {"review_id": review_id, "platform": "trustreviews"}


def _spent(app, model, row_id):
    with app.app_context():
        row = db.session.get(model, row_id)
        return row.spent_points, row.spent_count


def test_a_rejected_held_award_and_new_spending_in_one_batch(any_app):
    app = any_app
    rule_id = make_rule(app, budget={"count": 1}, hold={"above_points": 1})
    assert len(send(app, "review.published", data=review("a"))["held"]) == 1
    assert _spent(app, Rule, rule_id) == (10, 1)  # the whole budget, held
    # One batch: the removal rejects the held award (its budget comes back), and the next
    # review spends it again.
    removal = store(app, "review.removed", data=_removed("a"))
    second = store(app, "review.published", data=review("b"))
    process(app, removal, second)
    assert len(outcome(app, second)["held"]) == 1
    assert _spent(app, Rule, rule_id) == (10, 1)
    # And the budget is really spent: a third review gets nothing.
    third = send(app, "review.published", data=review("c"))
    assert third["held"] == [] and "budget" in third["skipped"][0]["reason"]


def test_a_clawback_and_new_spending_in_one_batch(any_app):
    app = any_app
    client = app.test_client()
    campaign = client.post(
        "/api/v1/campaigns", json={"name": "c", "budget_points": 20}, headers=auth(app)
    ).json["id"]
    rule_id = make_rule(app, budget={"points": 20}, campaign_id=campaign)
    for name in ("a", "b"):
        assert len(send(app, "review.published", data=review(name))["awards"]) == 1
    assert _spent(app, Rule, rule_id) == (20, 2)
    # Review "a" is removed (10 points clawed back, 10 of budget given back) in the batch in
    # which review "c" arrives: "c" pays from what came back, and the totals add up.
    removal = store(app, "review.removed", data=_removed("a"))
    third = store(app, "review.published", data=review("c"))
    process(app, removal, third)
    assert len(outcome(app, removal)["reversed"]) == 1
    assert len(outcome(app, third)["awards"]) == 1
    assert _spent(app, Rule, rule_id) == (20, 2)
    assert _spent(app, Campaign, campaign) == (20, 2)
