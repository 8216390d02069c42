"""Sender timestamps are the sender's word: the daily ceiling and the velocity check count by
the day we received an event, and events too old when they arrive earn nothing (PostgreSQL
and SQLite)."""

from datetime import UTC, datetime, timedelta

from loyalty_social.extensions import db
from loyalty_social.intake.models import ActivityEvent

from .conftest import auth, make_rule, outcome, process, share, store

RECEIVED = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _backdated(app, days, member_id="M-1") -> list[str]:
    """One share dated each of ``days`` days before RECEIVED, all received at RECEIVED."""
    return [
        store(
            app,
            "social.shared",
            member_id,
            share(),
            at=RECEIVED - timedelta(days=d),
            received=RECEIVED + timedelta(seconds=d),
        )
        for d in days
    ]


def test_thirty_shares_dated_thirty_days_share_one_days_ceiling(any_app):
    app = any_app
    app.config["MEMBER_DAILY_POINTS_CEILING"] = 25
    app.config["MAX_EVENT_AGE_DAYS"] = 30
    make_rule(app, event_types=["social.shared"])
    ids = _backdated(app, range(30))
    for start in range(0, 30, 7):  # several batches, as a sender's burst would arrive
        process(app, *ids[start : start + 7])
    results = [outcome(app, event_id) for event_id in ids]
    paid = [sum(a["points"] for a in r["awards"]) for r in results]
    assert paid == [10, 10] + [0] * 28  # 25 a day: two awards, whatever the dates say
    codes = {r["explanations"][0]["code"] for r in results[2:]}
    assert codes == {"ceiling"}
    assert "frees up at 2026-12-02T00:00:00Z" in results[-1]["explanations"][0]["reason"]
    # The next day we receive something, the ceiling is open again.
    [later] = _backdated(app, [3])
    with app.app_context():
        db.session.get(ActivityEvent, later).received_at = RECEIVED + timedelta(days=1)
        db.session.commit()
    process(app, later)
    assert [a["points"] for a in outcome(app, later)["awards"]] == [10]


def test_velocity_counts_events_by_the_day_they_arrived(any_app):
    app = any_app
    app.config["VELOCITY_MAX_EVENTS_PER_DAY"] = 3
    app.config["MAX_EVENT_AGE_DAYS"] = 30
    make_rule(app, event_types=["social.shared"], hold={"flagged_members": True})
    ids = _backdated(app, range(5))
    for event_id in ids:
        process(app, event_id)
    results = [outcome(app, event_id) for event_id in ids]
    assert [len(r["awards"]) for r in results] == [1, 1, 1, 0, 0]
    assert [len(r["held"]) for r in results] == [0, 0, 0, 1, 1]
    assert "velocity" in results[3]["explanations"][0]["reason"]


def test_events_older_than_the_age_limit_are_stored_and_earn_nothing(any_app):
    app = any_app
    app.config["MAX_EVENT_AGE_DAYS"] = 30
    rule_id = make_rule(app, event_types=["social.shared"])
    old, recent = _backdated(app, [31, 29])
    process(app, old, recent)
    too_old = outcome(app, old)
    assert too_old["awards"] == [] and too_old["held"] == []
    [record] = too_old["explanations"]
    assert record["rule_id"] == rule_id and record["code"] == "too_old"
    assert "more than 30 days old earns nothing" in record["reason"]
    assert [a["points"] for a in outcome(app, recent)["awards"]] == [10]
    client = app.test_client()
    words = client.get(f"/api/v1/members/M-1/events/{old}/explanation", headers=auth(app)).json
    assert words["status"] == "processed"
    assert words["rules"][0]["message"].startswith("This activity reached us too long after")
    balance = client.get("/api/v1/members/M-1/balance", headers=auth(app)).json
    assert balance["points"] == 10
