"""Rollups kept by the write paths: what processing, reversals, approvals, offers and consent
add, in their own transaction, once; and a rebuild from history gives the same figures."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from loyalty_social.analytics import rebuild, report, rollups
from loyalty_social.analytics.models import DailyRollup, DailyTotal, MemberRollup, MonthlyRollup
from loyalty_social.consent.service import set_consent
from loyalty_social.extensions import db
from loyalty_social.rules.held import approve_held

from ..rules.conftest import make_rule, process, review, send, share, store

TODAY = datetime.now(UTC).date()


def table(app) -> tuple[dict, dict]:
    """Everything in the rollups: daily rows and member totals (and, checked here against
    the daily rows, the monthly and daily-total grains kept with them)."""
    with app.app_context():
        daily = {
            (r.metric, r.day, r.key, r.key2): (r.count, r.amount)
            for r in db.session.scalars(select(DailyRollup))
            if r.count or r.amount
        }
        members = {
            r.member_id: (r.points, r.awards)
            for r in db.session.scalars(select(MemberRollup))
            if r.points or r.awards
        }
        monthly = {
            (r.metric, r.month, r.key, r.key2): (r.count, r.amount)
            for r in db.session.scalars(select(MonthlyRollup))
            if r.count or r.amount
        }
        totals = {
            (r.metric, r.day): (r.count, r.amount)
            for r in db.session.scalars(select(DailyTotal))
            if r.count or r.amount
        }
        db.session.remove()
    assert monthly == summed(daily, lambda m, d, k, k2: (m, d.replace(day=1), k, k2))
    assert totals == summed(daily, lambda m, d, k, k2: (m, d))
    return daily, members


def summed(daily: dict, grain) -> dict:
    found: dict = {}
    for key, (count, amount) in daily.items():
        c, a = found.get(grain(*key), (0, 0))
        found[grain(*key)] = (c + count, a + amount)
    return {k: v for k, v in found.items() if any(v)}


def totals(app, chart) -> dict:
    with app.app_context():
        rows = report.series(chart)["rows"]
        db.session.remove()
    found: dict = {}
    for row in rows:
        found[row["key"]] = (
            found.get(row["key"], (0, 0))[0] + row["count"],
            found.get(row["key"], (0, 0))[1] + row["amount"],
        )
    return found


def rebuilt_equals_incremental(app) -> None:
    before = table(app)
    with app.app_context():
        rebuild.rebuild()
        db.session.remove()
    assert table(app) == before


def test_processing_counts_points_by_rule_and_network_once(any_app):
    app = any_app
    rule_id = make_rule(
        app, event_types=["social.shared"], rewards=[{"kind": "fixed", "points": 7}]
    )
    ids = [
        store(app, "social.shared", "M-1", share(network="x")),
        store(app, "social.shared", "M-2", share(network="instagram")),
        store(app, "social.shared", "M-1", share(network="x")),
        store(app, "review.published", "M-3", review()),  # no rule listens: counted, pays nothing
    ]
    process(app, *ids)
    process(app, *ids)  # a second run (RQ retry, sweeper) adds nothing
    assert totals(app, "points-by-rule") == {rule_id: (3, 21)}
    assert totals(app, "points-by-network") == {"x": (2, 14), "instagram": (1, 7)}
    assert totals(app, "events-by-type") == {"social.shared": (3, 0), "review.published": (1, 0)}
    assert totals(app, "events-by-source") == {"backend": (4, 0)}
    daily, members = table(app)
    assert members == {"M-1": (14, 2), "M-2": (7, 1)}
    assert {day for (_m, day, _k, _k2) in daily} == {TODAY}
    rebuilt_equals_incremental(app)


def test_reversal_and_approved_hold(any_app):
    app = any_app
    paid_rule = make_rule(app, rewards=[{"kind": "fixed", "points": 10}])
    held_rule = make_rule(
        app, name="held", rewards=[{"kind": "fixed", "points": 50}], hold={"above_points": 20}
    )
    result = send(app, "review.published", "M-1", review("r-1"))
    assert len(result["awards"]) == 1 and len(result["held"]) == 1
    assert totals(app, "held-by-rule") == {held_rule: (1, 50)}
    assert totals(app, "points-by-rule") == {paid_rule: (1, 10)}
    with app.app_context():
        approve_held(result["held"][0]["award_id"], "approver")
        db.session.remove()
    assert totals(app, "points-by-rule") == {paid_rule: (1, 10), held_rule: (1, 50)}
    send(app, "review.removed", "M-1", {"review_id": "r-1", "platform": "trustreviews"})
    assert totals(app, "reversed-by-rule") == {paid_rule: (1, 10), held_rule: (1, 50)}
    assert table(app)[1] == {}  # nothing left to M-1
    rebuilt_equals_incremental(app)


def test_consent_opt_in_rates_and_top_advocates(any_app):
    app = any_app
    make_rule(app, event_types=["social.shared"], rewards=[{"kind": "fixed", "points": 5}])
    for member, shares in (("M-1", 3), ("M-2", 2), ("M-3", 1)):
        process(app, *[store(app, "social.shared", member) for _ in range(shares)])
    with app.app_context():
        set_consent("M-1", "social_activity_use", True, "portal")
        set_consent("M-2", "social_activity_use", True, "portal")
        set_consent("M-2", "social_activity_use", True, "portal")  # repeated: no new opt-in
        set_consent("M-2", "social_activity_use", False, "portal")
        set_consent("M-3", "social_activity_use", True, "portal")
        db.session.commit()
        rates = {r["purpose"]: r for r in report.consent_rates()}
        from loyalty_social.analytics.api import shown

        top = report.top_advocates(10, shown)
        db.session.remove()
    assert rates["social_activity_use"] == {
        "purpose": "social_activity_use",
        "decided": 3,
        "opted_in": 2,
        "rate": 66.7,
    }
    # M-2 withdrew: not shown, though second by points.
    assert [(a["member_id"], a["points"]) for a in top] == [("M-1", 15), ("M-3", 5)]
    rebuilt_equals_incremental(app)


def test_concurrent_workers_add_without_losing_counts(pg_rapp):
    """Eight workers process disjoint batches of one rule on one day at once: every addition
    lands (ON CONFLICT DO UPDATE adds; rows in key order never deadlock)."""
    app = pg_rapp
    rule_id = make_rule(
        app, event_types=["social.shared"], rewards=[{"kind": "fixed", "points": 3}]
    )
    batches = [
        [
            store(app, "social.shared", f"M-{w}-{i}", share(network=("x", "tiktok")[i % 2]))
            for i in range(12)
        ]
        for w in range(8)
    ]
    errors = []
    start = threading.Barrier(len(batches))

    def work(ids):
        try:
            start.wait()
            process(app, *ids)
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert totals(app, "points-by-rule") == {rule_id: (96, 288)}
    assert totals(app, "points-by-network") == {"x": (48, 144), "tiktok": (48, 144)}
    assert totals(app, "events-by-type") == {"social.shared": (96, 0)}
    rebuilt_equals_incremental(app)


def test_rolled_back_work_adds_nothing(rapp):
    with rapp.app_context():
        set_consent("M-9", "social_activity_use", True, "portal")
        db.session.rollback()
        set_consent("M-8", "social_activity_use", True, "portal")
        db.session.commit()
        rates = {r["purpose"]: r for r in report.consent_rates()}
        db.session.remove()
    assert rates["social_activity_use"]["decided"] == 1


def test_a_chart_shows_the_top_eight_keys_and_sums_the_rest(rapp):
    """The chart's query returns the leaders and "other" per day, not every key."""
    from loyalty_social.analytics import queries

    rules = [
        make_rule(
            rapp,
            name=f"r{i}",
            event_types=["social.shared"],
            rewards=[{"kind": "fixed", "points": 10 + i}],
        )
        for i in range(10)
    ]
    send(rapp, "social.shared", "M-1", share())  # every rule pays: 10 + 11 + ... + 19
    with rapp.app_context():
        result = report.chart("points-by-rule")
        drawn = queries.pivot(result["rows"], TODAY, TODAY)
        db.session.remove()
    assert len(result["rows"]) == 9
    assert drawn["totals"]["other"] == 10 + 11  # the two smallest
    assert list(drawn["totals"])[:2] == [rules[9], rules[8]]
    assert sum(drawn["totals"].values()) == sum(range(10, 20))


def test_a_year_chart_reads_months_and_day_totals_and_draws_what_the_days_say(any_app):
    """Additions over 14 months go to the daily, monthly and daily-total grains together; a
    chart over windows with partial months at either end, whole months only, or inside one
    month shows the same leaders and "other" per day as the daily rows alone."""
    from loyalty_social.analytics import queries

    start = date(2025, 11, 1)
    with any_app.app_context():
        for i in range(430):  # a day each, rule r{i % 11}; r10 pays most, late in the range
            day = datetime.combine(start + timedelta(days=i), datetime.min.time(), UTC)
            rule = f"r{i % 11}"
            rollups.add(db.session, "points", day, rule, "", 1, (i % 11) * (1 + i // 200))
            rollups.add(db.session, "points", day, "r3", "", 2, 5)  # a second key every day
        db.session.commit()
        db.session.remove()
    table(any_app)  # the grains agree with the days
    windows = [
        (date(2025, 11, 17), date(2026, 11, 12)),  # partial months at both ends
        (date(2026, 1, 1), date(2026, 12, 31)),  # whole months only
        (date(2026, 2, 3), date(2026, 2, 20)),  # inside one month
        (date(2025, 12, 31), date(2026, 1, 31)),  # a day, then a whole month
    ]
    with any_app.app_context():
        for since, until in windows:
            days = queries.breakdown("points-by-rule", since, until)
            size: dict = {}
            for row in days:
                size[row["key"]] = size.get(row["key"], 0) + row["count"] + row["amount"]
            leaders = sorted(size, key=lambda k: (-size[k], k))[:3]
            expected: dict = {}
            for row in days:
                name = row["key"] if row["key"] in leaders else queries.OTHER
                c, a = expected.get((row["day"], name), (0, 0))
                expected[(row["day"], name)] = (c + row["count"], a + row["amount"])
            drawn = queries.top_breakdown("points-by-rule", since, until, top=3)
            assert {(r["day"], r["key"]): (r["count"], r["amount"]) for r in drawn} == expected
            assert [(r["day"], r["key"]) for r in drawn] == sorted(expected)
        db.session.remove()
