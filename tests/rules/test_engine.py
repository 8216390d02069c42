"""Evaluation through the real process_events: limits, budgets, stacking, schedule, evidence,
consent, counters, versions and the explanations recorded for every listening rule."""

from datetime import UTC, datetime, timedelta

from loyalty_social.extensions import db
from loyalty_social.intake.models import ActivityEvent
from loyalty_social.rewards.models import Award
from loyalty_social.rules import active, explanations

from .conftest import T0, auth, balance, make_rule, outcome, paid, process, review, send, store


def _explained(app, result, rule_id):
    """The rule's record for the event, as explanations read it (gated-out rules expanded)."""
    with app.app_context():
        event = db.session.get(ActivityEvent, result["id"])
        return next(r for r in explanations.event_records(event) if r["rule_id"] == rule_id)


def test_monthly_cap_pays_four_reviews_and_says_when_it_frees_up(rapp):
    rule_id = make_rule(
        rapp,
        limits={"per_member": [{"period": "month", "count": 4}]},
        schedule={"timezone": "Europe/Berlin"},
    )
    results = [
        send(rapp, "review.published", data=review(f"r{i}"), at=T0 + timedelta(hours=i))
        for i in range(5)
    ]
    assert [paid(r) for r in results] == [10, 10, 10, 10, 0]
    last = _explained(rapp, results[-1], rule_id)
    assert last["code"] == "limit"
    assert last["frees_at"] == "2026-11-30T23:00:00Z"  # Berlin midnight, 1 December
    assert "4 awards per month" in last["reason"]
    # December is a new month
    assert paid(send(rapp, "review.published", data=review("r9"), at=T0 + timedelta(days=11))) == 10


def test_once_per_product_and_per_url(rapp):
    make_rule(rapp, limits={"once_per": "data.sku"})
    share_rule = make_rule(rapp, event_types=["social.shared"], limits={"once_per": "object"})
    assert paid(send(rapp, "review.published", data=review("a", sku="S1"))) == 10
    assert paid(send(rapp, "review.published", data=review("b", sku="S1"))) == 0
    assert paid(send(rapp, "review.published", data=review("c", sku="S2"))) == 10
    url = {"network": "x", "url": "https://shop.test/p/1"}
    assert paid(send(rapp, "social.shared", data=url)) == 10
    again = send(rapp, "social.shared", data=url)
    assert paid(again) == 0
    assert "already rewarded" in _explained(rapp, again, share_rule)["reason"]


def test_cooldown_and_rolling_window(rapp):
    make_rule(rapp, limits={"cooldown_seconds": 3600})
    make_rule(
        rapp,
        name="rolling",
        event_types=["social.shared"],
        limits={"per_member": [{"period": "rolling", "days": 7, "points": 20}]},
    )
    assert paid(send(rapp, "review.published", data=review("a"))) == 10
    blocked = send(rapp, "review.published", data=review("b"), at=T0 + timedelta(minutes=30))
    assert paid(blocked) == 0
    assert blocked["explanations"][0]["frees_at"] == "2026-11-20T10:30:00Z"
    assert (
        paid(send(rapp, "review.published", data=review("c"), at=T0 + timedelta(minutes=61))) == 10
    )
    days = [0, 1, 2, 7, 8]
    results = [paid(send(rapp, "social.shared", at=T0 + timedelta(days=d))) for d in days]
    assert results == [10, 10, 0, 10, 10]  # day 7: day 0 left the 7-day window


def test_rolling_window_counts_an_event_that_arrives_late_inside_it(rapp):
    """A share dated before one already paid, processed after it: every 3-day window that
    would hold both is already full, so it pays nothing (seen from its own day alone, the
    window ending then is empty). Pinned from the property test's counterexamples."""
    rule_id = make_rule(
        rapp,
        event_types=["social.shared"],
        limits={"per_member": [{"period": "rolling", "days": 3, "count": 1}]},
    )
    assert paid(send(rapp, "social.shared", at=T0 + timedelta(days=2))) == 10
    late = send(rapp, "social.shared", at=T0)
    assert paid(late) == 0
    assert _explained(rapp, late, rule_id)["code"] == "limit"
    assert paid(send(rapp, "social.shared", at=T0 + timedelta(days=1))) == 0
    # Outside every window that holds day 2: pays (days -1..1 and 3..5 hold no award yet).
    assert paid(send(rapp, "social.shared", at=T0 - timedelta(days=1))) == 10
    assert paid(send(rapp, "social.shared", at=T0 + timedelta(days=5))) == 10
    assert paid(send(rapp, "social.shared", at=T0 + timedelta(days=4))) == 0


def test_rolling_window_late_event_in_one_batch(rapp):
    make_rule(
        rapp,
        event_types=["social.shared"],
        limits={"per_member": [{"period": "rolling", "days": 2, "points": 14}]},
        rewards=[{"kind": "fixed", "points": 7}],
    )
    # Two on the second day fill the window that ends then; the first day's, arriving last,
    # would overflow it (the window that ends on its own day is empty).
    first = store(rapp, "social.shared", at=T0 + timedelta(hours=30))
    second = store(rapp, "social.shared", at=T0 + timedelta(hours=20))
    late = store(rapp, "social.shared", at=T0)
    process(rapp, first, second, late)
    assert [paid(outcome(rapp, e)) for e in (first, second, late)] == [7, 7, 0]
    assert paid(send(rapp, "social.shared", at=T0 - timedelta(days=1))) == 7


def test_budgets_per_rule_and_campaign(rapp):
    client = rapp.test_client()
    campaign = client.post(
        "/api/v1/campaigns", json={"name": "launch", "budget_points": 25}, headers=auth(rapp)
    ).json
    make_rule(rapp, name="capped", budget={"count": 2})
    make_rule(rapp, name="shared A", event_types=["social.shared"], campaign_id=campaign["id"])
    make_rule(rapp, name="shared B", event_types=["social.followed"], campaign_id=campaign["id"])
    assert [paid(send(rapp, "review.published", f"M-{i}", review(f"r{i}"))) for i in range(3)] == [
        10,
        10,
        0,
    ]
    follow = {"network": "x", "account": "@b"}
    assert paid(send(rapp, "social.shared", "M-1")) == 10
    assert paid(send(rapp, "social.followed", "M-2", follow)) == 10
    last = send(rapp, "social.shared", "M-3")
    assert paid(last) == 0 and "campaign's budget" in last["skipped"][0]["reason"]
    spent = client.get(f"/api/v1/campaigns/{campaign['id']}", headers=auth(rapp)).json
    assert (spent["spent_points"], spent["spent_count"]) == (20, 2)


def test_daily_ceiling_across_rules(rapp):
    rapp.config["MEMBER_DAILY_POINTS_CEILING"] = 25
    make_rule(rapp, name="a", rewards=[{"kind": "fixed", "points": 10}])
    make_rule(rapp, name="b", rewards=[{"kind": "fixed", "points": 10}])
    first = send(rapp, "review.published", data=review("1"))
    second = send(rapp, "review.published", data=review("2"))
    assert (paid(first), paid(second)) == (20, 0)
    codes = {e["code"] for e in second["explanations"]}
    assert codes == {"ceiling"}
    # The ceiling counts by the day we received the activity: the next day it is open again.
    next_day = datetime.now(UTC) + timedelta(days=1)
    third = send(rapp, "review.published", data=review("3"), at=T0 + timedelta(days=1))
    assert paid(third) == 0  # dated the next day, received today: still today's ceiling
    later = send(rapp, "review.published", data=review("4"), at=T0, received=next_day)
    assert paid(later) == 20


def test_priority_and_exclusive_rules(rapp):
    low = make_rule(rapp, name="low", priority=1)
    top = make_rule(
        rapp,
        name="top",
        priority=10,
        exclusive=True,
        rewards=[{"kind": "fixed", "points": 50}],
        conditions={"field": "data.verified_purchase", "op": "eq", "value": True},
    )
    exclusive = send(rapp, "review.published", data=review("a", verified_purchase=True))
    assert [a["rule_id"] for a in exclusive["awards"]] == [top]
    assert _explained(rapp, exclusive, low)["code"] == "exclusive"
    both = send(rapp, "review.published", data=review("b"))
    assert [a["rule_id"] for a in both["awards"]] == [low]
    assert _explained(rapp, both, top)["code"] == "condition"
    assert _explained(rapp, both, top)["failure"]["clause"] == "/conditions"


def test_schedule_in_the_rules_time_zone_and_evidence(rapp):
    # 9:30 UTC is 18:30 in Tokyo: a rule starting at 19:00 Tokyo time has not started yet.
    make_rule(
        rapp,
        schedule={"starts_at": "2026-11-20T19:00:00+09:00", "timezone": "Asia/Tokyo"},
        evidence={"min": "verified"},
    )
    early = send(rapp, "review.published", data=review("a"))
    assert early["explanations"][0]["code"] == "schedule"
    later = T0 + timedelta(hours=1)
    weak = send(rapp, "review.published", data=review("b"), evidence="tracked", at=later)
    assert weak["explanations"][0]["code"] == "evidence"
    assert paid(send(rapp, "review.published", data=review("c"), at=later)) == 10


def test_third_review_this_month_counter(rapp):
    make_rule(
        rapp,
        conditions={
            "counter": {"event_type": "review.published", "period": "month"},
            "op": "eq",
            "value": 3,
        },
    )
    results = [paid(send(rapp, "review.published", data=review(f"r{i}"))) for i in range(4)]
    assert results == [0, 0, 10, 0]


def test_targeted_rule_needs_consent_and_the_award_records_it(rapp):
    from loyalty_social.consent.service import set_consent

    rule_id = make_rule(
        rapp, targeted=True, conditions={"field": "member.tier", "op": "eq", "value": "gold"}
    )
    send(rapp, "member.updated", data={"tier": "gold"})
    refused = send(rapp, "review.published", data=review("a"))
    assert _explained(rapp, refused, rule_id)["code"] == "consent"
    with rapp.app_context():
        set_consent("M-1", "targeted_rewards", True, "portal")
        db.session.commit()
    granted = send(rapp, "review.published", data=review("b"))
    assert paid(granted) == 10
    with rapp.app_context():
        award = db.session.get(Award, granted["awards"][0]["award_id"])
        assert award.consent_ref and "targeted_rewards" in award.consent_ref
        set_consent("M-1", "targeted_rewards", False, "portal")
        db.session.commit()
    assert paid(send(rapp, "review.published", data=review("c"))) == 0


def test_every_change_is_a_version_and_awards_keep_theirs(rapp):
    client = rapp.test_client()
    rule_id = make_rule(rapp)
    first = send(rapp, "review.published", data=review("a"))
    doc = client.get(f"/api/v1/rules/{rule_id}", headers=auth(rapp)).json
    body = {k: doc[k] for k in ("name", "event_types", "rewards", "limits", "evidence")}
    body["rewards"] = [{"kind": "fixed", "points": 30}]
    changed = client.put(
        f"/api/v1/rules/{rule_id}", json={**body, "note": "more"}, headers=auth(rapp)
    )
    assert changed.status_code == 200 and changed.json["version"] == 2
    with rapp.app_context():
        active.forget_cached_rules()
    second = send(rapp, "review.published", data=review("b"))
    assert [a["rule_version"] for a in first["awards"] + second["awards"]] == [1, 2]
    assert paid(second) == 30
    paused = client.post(
        f"/api/v1/rules/{rule_id}/status", json={"status": "paused"}, headers=auth(rapp)
    )
    assert paused.json["version"] == 3
    versions = client.get(f"/api/v1/rules/{rule_id}/versions", headers=auth(rapp)).json["items"]
    assert [(v["version"], v["changed_by"]) for v in versions] == [
        (3, "tests"),
        (2, "tests"),
        (1, "tests"),
    ]
    assert versions[1]["change"] == "more" and versions[1]["snapshot"]["rewards"][0]["points"] == 30
    with rapp.app_context():
        active.forget_cached_rules()
    assert paid(send(rapp, "review.published", data=review("c"))) == 0
    bad = client.post(
        f"/api/v1/rules/{rule_id}/status", json={"status": "draft"}, headers=auth(rapp)
    )
    assert bad.status_code == 409


def test_member_sees_why_in_plain_words(rapp):
    make_rule(
        rapp,
        name="Long reviews",
        conditions={"field": "data.text_length", "op": "ge", "value": 100},
    )
    make_rule(rapp, name="Any review", limits={"per_member": [{"period": "day", "count": 1}]})
    send(rapp, "review.published", data=review("a"))
    event_id = store(rapp, "review.published", data=review("b", text_length=42))
    process(rapp, event_id)
    client = rapp.test_client()
    body = client.get(f"/api/v1/members/M-1/events/{event_id}/explanation", headers=auth(rapp)).json
    assert body["summary"] == "This activity did not earn points; each reward's reason is below."
    messages = {r["rule_name"]: r["message"] for r in body["rules"]}
    assert "at least 100" in messages["Long reviews"] and "42" in messages["Long reviews"]
    assert messages["Any review"].startswith("You reached the limit of “Any review”")
    assert "2026-11-20 23:00" not in messages["Any review"]
    assert "2026-11-21 00:00 UTC" in messages["Any review"]
    other = client.get(f"/api/v1/members/M-2/events/{event_id}/explanation", headers=auth(rapp))
    assert other.status_code == 404
    marketer = client.get("/api/v1/rules", headers=auth(rapp)).json["items"]
    rule_id = next(r["id"] for r in marketer if r["name"] == "Long reviews")
    per_rule = client.get(
        f"/api/v1/rules/{rule_id}/explanations?result=skipped", headers=auth(rapp)
    ).json["items"]
    assert [(i["event_id"], i["code"]) for i in per_rule] == [(event_id, "condition")]


def test_replay_pays_nothing_twice_and_counts_nothing_twice(rapp):
    make_rule(rapp, limits={"per_member": [{"period": "day", "count": 2}]})
    first = store(rapp, "review.published", data=review("a"))
    process(rapp, first)
    with rapp.app_context():
        from loyalty_social.intake.service import replay_event

        replay_event(first)
    again = outcome(rapp, first)
    assert again["awards"] == [] and again["skipped"][0]["reason"] == "already awarded"
    assert paid(send(rapp, "review.published", data=review("b"))) == 10
    assert balance(rapp) == 20
