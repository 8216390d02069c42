"""A backtest says what processing would have decided: the same events, processed for real by
one active rule, and backtested with that rule over the same window, give the same awards,
held awards and points per day, and the same reasons for what was not paid."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from loyalty_social.extensions import db
from loyalty_social.identity.models import Member
from loyalty_social.intake.models import ActivityEvent
from loyalty_social.rewards.models import Award
from loyalty_social.rules import backtest
from loyalty_social.rules.limits import local_date

from .conftest import make_rule, process, review, share, store

START = datetime(2026, 10, 5, 6, 0, tzinfo=UTC)
TZ = "Europe/Paris"
RULE = {
    "name": "reviews and shares",
    "schedule": {"timezone": TZ},
    "event_types": ["review.published", "social.shared"],
    "conditions": {
        "all": [
            {"field": "member.attributes.segment", "op": "lt", "value": 3},
            {
                "any": [
                    {"field": "event.evidence", "op": "eq", "value": "verified"},
                    {"field": "event.evidence", "op": "eq", "value": "confirmed"},
                ]
            },
        ]
    },
    "rewards": [
        {"kind": "fixed", "points": 5},
        {"kind": "formula", "field": "data.text_length", "per": 100, "points": 1, "cap": 12},
    ],
    "limits": {"per_member": [{"period": "day", "count": 3}], "cooldown_seconds": 1800},
    "budget": {"points": 200},
}


def _history(app) -> list[str]:
    """Three days of reviews, shares and follows by six members, in the order received;
    a removal that arrived before its review; some claimed evidence."""
    rng = random.Random(15)
    with app.app_context():
        db.session.execute(
            Member.__table__.insert(),
            [
                {
                    "id": f"M-{i}",
                    "tier": None,
                    "attributes": {"segment": i},
                    "created_at": START,
                    "updated_at": START,
                }
                for i in range(6)
            ],
        )
        db.session.commit()
    ids = []
    at = START
    removed = review("r-gone", text_length=400)
    ids.append(
        store(
            app,
            "review.removed",
            "M-1",
            {"review_id": "r-gone", "platform": "trustreviews"},
            at=at,
            received=at,
        )
    )
    for i in range(140):
        at += timedelta(minutes=rng.randrange(5, 60))
        member = f"M-{rng.randrange(6)}"
        kind = rng.choice(["review.published", "social.shared", "social.followed"])
        kind = "review.published" if i == 30 else kind
        if kind == "review.published":
            data = removed if i == 30 else review(f"r-{i}", text_length=rng.randrange(0, 1500))
            member = "M-1" if i == 30 else member
        elif kind == "social.shared":
            data = share(f"https://ex.test/{i}")
        else:
            data = {"network": "x", "account": f"@b{i}"}
        evidence = "claimed" if rng.random() < 0.15 else "verified"
        ids.append(store(app, kind, member, data, evidence, at=at, received=at))
    return ids


def _actual(app, ids) -> tuple[list[dict], Counter]:
    """What processing paid per day (the rule's time zone), and why it paid nothing else."""
    days: dict = defaultdict(lambda: {"awards": 0, "held": 0, "points": 0, "members": set()})
    not_paid: Counter = Counter()
    with app.app_context():
        rows = db.session.execute(
            db.select(Award.status, Award.points, Award.member_id, ActivityEvent.occurred_at).join(
                ActivityEvent, ActivityEvent.id == Award.event_id
            )
        )
        for status, points, member_id, occurred_at in rows:
            day = days[local_date(occurred_at, TZ).isoformat()]
            day["held" if status == "held" else "awards"] += 1
            day["points"] += points
            day["members"].add(member_id)
        for event in db.session.scalars(db.select(ActivityEvent).where(ActivityEvent.id.in_(ids))):
            assert event.status == "processed", event.error
            not_paid["condition"] += len(event.outcome.get("not_matched", []))
            for decision in event.outcome.get("explanations", []):
                if decision["result"] not in ("paid", "held"):
                    not_paid[decision["code"]] += 1
    per_day = [
        {"date": d, **{k: len(v) if k == "members" else v for k, v in days[d].items()}}
        for d in sorted(days)
    ]
    return per_day, not_paid


@pytest.mark.parametrize(
    "hold, velocity",
    [
        ({"above_points": 12}, 0),
        # Held when the member received more than 5 events that day, of any type: the backtest
        # counts the types the rule does not listen to as well.
        ({"flagged_members": True}, 5),
    ],
)
def test_a_backtest_reports_what_processing_decided(any_app, hold, velocity):
    app = any_app
    app.config["MEMBER_DAILY_POINTS_CEILING"] = 40
    app.config["VELOCITY_MAX_EVENTS_PER_DAY"] = velocity
    rule_id = make_rule(app, **(RULE | {"hold": hold}))
    ids = _history(app)
    for start in range(0, len(ids), 9):  # in the order received, in batches as dispatched
        process(app, *ids[start : start + 9])
    per_day, not_paid = _actual(app, ids)
    # Every way of not paying shows up, so the comparison covers each check.
    assert {"condition", "limit", "ceiling", "budget", "removed"} <= set(not_paid)
    assert sum(d["held"] for d in per_day) and sum(d["awards"] for d in per_day)
    with app.app_context():
        done = backtest.run(backtest.start(rule_id, START, START + timedelta(days=30)))
        assert done.status == "done", done.error
        report = done.report
        assert done.scanned == done.total == report["totals"]["events"]
    assert report["days"] == per_day
    assert report["not_paid"] == dict(not_paid)
    assert report["totals"]["points"] == sum(d["points"] for d in per_day)
