"""Budget alerts: an outbound event at 80 % and at 100 % of a rule's budget, once each per
budget period, written by the transaction that spent the budget."""

from __future__ import annotations

from sqlalchemy import select

from loyalty_social.delivery.models import Delivery
from loyalty_social.delivery.subscriptions import add_subscription
from loyalty_social.extensions import db
from loyalty_social.rules import budget_alerts
from loyalty_social.rules.models import BudgetAlert, Rule

from ..rules.conftest import make_rule, process, send, share, store


def alerts_sent(app) -> list[dict]:
    with app.app_context():
        rows = db.session.scalars(
            select(Delivery).where(Delivery.event_type == "budget.threshold_reached")
        ).all()
        sent = [r.payload["data"] for r in rows]
        db.session.remove()
    return sorted(sent, key=lambda d: d["threshold_percent"])


def test_alerts_once_per_threshold_and_period(any_app):
    app = any_app
    app.config["ALLOW_PRIVATE_TARGETS"] = True
    with app.app_context():
        add_subscription("http://127.0.0.1:9/budget", ["budget.threshold_reached"])
        db.session.commit()
    rule_id = make_rule(
        app,
        event_types=["social.shared"],
        rewards=[{"kind": "fixed", "points": 10}],
        budget={"points": 100},
    )
    for _ in range(7):
        send(app, "social.shared", "M-1", share())
    assert alerts_sent(app) == []
    # One batch takes it from 70 % to 90 %: the 80 % alert, once.
    process(app, store(app, "social.shared", "M-2", share()), store(app, "social.shared", "M-3"))
    sent = alerts_sent(app)
    assert [(a["id"], a["threshold_percent"], a["spent_points"]) for a in sent] == [
        (rule_id, 80, 90)
    ]
    send(app, "social.shared", "M-4", share())  # 100 %
    send(app, "social.shared", "M-5", share())  # refused (spent): no new alert
    assert [a["threshold_percent"] for a in alerts_sent(app)] == [80, 100]
    with app.app_context():
        usage = {u["id"]: u for u in budget_alerts.usage()}
        assert usage[rule_id]["percent"] == 100.0 and usage[rule_id]["alert"] == 100
        # A bigger budget is a new period: its 80 % is raised again when reached.
        db.session.get(Rule, rule_id).budget_points = 120
        db.session.commit()
        assert budget_alerts.usage()[0]["alert"] is None
        db.session.remove()
    send(app, "social.shared", "M-6", share())  # 110 of 120
    assert [a["threshold_percent"] for a in alerts_sent(app)] == [80, 80, 100]
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(BudgetAlert)) == 3
        db.session.remove()
