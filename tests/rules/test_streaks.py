"""Streaks through the real process_events, on SQLite and PostgreSQL: a 7-day step streak
pays once, on day 7; a broken streak starts again; several qualifying events on one day count
once; a late event that fills a gap completes the streak once; explained as "day 5 of 7"."""

from datetime import UTC, datetime, timedelta

import pytest

from loyalty_social.extensions import db
from loyalty_social.intake.models import ActivityEvent
from loyalty_social.rules import backtest, explanations, service
from loyalty_social.rules.documents import RuleError

from .conftest import auth, make_rule, paid, process, send, store

# 08:00 in Berlin on 1 December 2026 (UTC+1): the streak counts Berlin days
DAY1 = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
STREAK = {
    "streak": {
        "event_type": "community.milestone",
        "days": 7,
        "where": [
            {"field": "data.name", "op": "eq", "value": "steps"},
            {"field": "data.value", "op": "ge", "value": 8000},
        ],
    }
}


def steps(value=9000, name="steps"):
    return {"name": name, "value": value, "unit": "steps"}


def streak_rule(app, **doc):
    return make_rule(
        app,
        name="Step streak",
        event_types=["community.milestone"],
        conditions=STREAK,
        rewards=[{"kind": "fixed", "points": 100}],
        schedule={"timezone": "Europe/Berlin"},
        **doc,
    )


def walk(app, days, value=9000, member="M-1", hour=0):
    return [
        paid(
            send(
                app,
                "community.milestone",
                member,
                steps(value),
                at=DAY1 + timedelta(days=d, hours=hour),
            )
        )
        for d in days
    ]


def member_message(app, result, rule_id):
    with app.app_context():
        event = db.session.get(ActivityEvent, result["id"])
        explained = explanations.member_explanation(event.member_id, event.id)
        return next(r["message"] for r in explained["rules"] if r["rule_id"] == rule_id)


def test_seven_day_streak_pays_once_on_day_seven(any_app):
    rule_id = streak_rule(any_app)
    assert walk(any_app, range(6)) == [0] * 6
    sixth = send(any_app, "community.milestone", data=steps(), at=DAY1 + timedelta(days=5, hours=3))
    assert paid(sixth) == 0  # a second walk on day 6 does not advance it
    assert "day 6 of 7" in member_message(any_app, sixth, rule_id)
    assert walk(any_app, [6]) == [100]
    assert walk(any_app, [6], hour=2) == [0]  # day 7 again: counted once
    assert walk(any_app, [7, 8, 9, 10, 11, 12, 13]) == [0] * 7  # one streak, one reward


def test_a_broken_streak_starts_again(any_app):
    rule_id = streak_rule(any_app)
    assert walk(any_app, range(5)) == [0] * 5
    # day 6 too few steps, and a milestone of another kind: neither counts
    short = send(any_app, "community.milestone", data=steps(5000), at=DAY1 + timedelta(days=5))
    assert paid(short) == 0
    assert "day 5 of 7" in member_message(any_app, short, rule_id)
    assert (
        paid(
            send(
                any_app,
                "community.milestone",
                data=steps(20000, name="badges"),
                at=DAY1 + timedelta(days=5, hours=1),
            )
        )
        == 0
    )
    restart = send(any_app, "community.milestone", data=steps(), at=DAY1 + timedelta(days=6))
    assert paid(restart) == 0
    assert "day 1 of 7" in member_message(any_app, restart, rule_id)
    assert walk(any_app, range(7, 12)) == [0] * 5
    assert walk(any_app, [12]) == [100]  # days 7..13 of December: a new streak, paid again


def test_days_follow_the_rules_time_zone(rapp):
    """23:30 UTC is already the next day in Berlin: two walks an hour apart in UTC on one UTC
    day are two Berlin days."""
    streak_rule(rapp, limits={})
    late = DAY1.replace(hour=22, minute=30)  # 23:30 Berlin, 1 December
    at = [late + timedelta(days=d) for d in range(-5, 0)] + [late, late + timedelta(hours=1)]
    results = [paid(send(rapp, "community.milestone", data=steps(), at=when)) for when in at]
    assert results == [0] * 6 + [100]


def test_a_late_event_filling_the_gap_completes_the_streak_once(rapp):
    streak_rule(rapp)
    assert walk(rapp, [0, 1, 2, 4, 5, 6]) == [0] * 6
    assert walk(rapp, [3]) == [100]  # arrives last, dated day 4
    assert walk(rapp, [7]) == [0]


def test_members_and_duplicates_in_one_batch(any_app):
    streak_rule(any_app)
    for member in ("M-1", "M-2"):
        walk(any_app, range(6), member=member)
    ids = [
        store(any_app, "community.milestone", member, steps(), at=DAY1 + timedelta(days=6, hours=h))
        for member in ("M-1", "M-2")
        for h in (1, 2, 3)
    ]
    process(any_app, *ids)
    with any_app.app_context():
        awards = [
            len(db.session.get(ActivityEvent, event_id).outcome["awards"]) for event_id in ids
        ]
    assert awards == [1, 0, 0, 1, 0, 0]


def test_the_grammar_refuses_bad_streaks_naming_the_clause(rapp):
    with rapp.app_context(), pytest.raises(RuleError) as refused:
        service.create_rule(
            {
                "name": "bad",
                "event_types": ["community.milestone"],
                "conditions": {
                    "all": [
                        {
                            "streak": {
                                "event_type": "community.milestone",
                                "days": 400,
                                "where": [{"counter": {}}],
                            }
                        }
                    ]
                },
                "rewards": [{"kind": "fixed", "points": 1}],
            },
            actor="tests",
        )
    assert set(refused.value.errors) == {
        "/conditions/all/0/streak/days",
        "/conditions/all/0/streak/where/0",
    }


def test_preview_and_backtest_see_the_streak(rapp):
    rule_id = streak_rule(rapp)
    walk(rapp, range(6))
    client = rapp.test_client()
    sample = {
        "member_id": "M-1",
        "event": {
            "type": "community.milestone",
            "data": steps(),
            "occurred_at": (DAY1 + timedelta(days=6)).isoformat(),
        },
    }
    answer = client.post(f"/api/v1/rules/{rule_id}/preview", json=sample, headers=auth(rapp))
    assert answer.status_code == 200, answer.json
    assert answer.json["points"] == 100
    assert answer.json["conditions"]["actual"] == 7
    sample["event"]["occurred_at"] = (DAY1 + timedelta(days=8)).isoformat()
    answer = client.post(f"/api/v1/rules/{rule_id}/preview", json=sample, headers=auth(rapp))
    assert answer.json["points"] == 0 and answer.json["conditions"]["actual"] == 1
    assert _backtest_awards(rapp, rule_id) == 0  # six days stored: no streak yet
    walk(rapp, [6])
    assert _backtest_awards(rapp, rule_id) == 1


def _backtest_awards(app, rule_id) -> int:
    with app.app_context():
        since = datetime(2026, 1, 1, tzinfo=UTC)
        done = backtest.run(backtest.start(rule_id, since, datetime.now(UTC) + timedelta(1)))
        assert done.status == "done"
        return done.report["totals"]["awards"]


def test_an_operator_that_is_not_text_is_refused_not_a_server_error(rapp):
    """Found by fuzzing the grammar: {"op": {}} under not/not was a 500."""
    clause = {"counter": {"event_type": "*", "period": "day"}, "op": {}, "value": [0, 0]}
    rule = {
        "name": "x",
        "event_types": ["review.published"],
        "conditions": {"not": {"not": clause}},
        "rewards": [{"kind": "fixed", "points": 1}],
    }
    answer = rapp.test_client().post("/api/v1/rules", json=rule, headers=auth(rapp))
    assert answer.status_code == 422
    assert "/conditions/not/not/op" in answer.json["errors"]["json"]
