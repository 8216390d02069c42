"""Exactly once under concurrency (PostgreSQL + two real RQ workers), and a bounded number of
statements per batch whatever the number of rules or the size of a member's history."""

import time
from datetime import timedelta

import pytest
from sqlalchemy import event as sa_event

from loyalty_social.extensions import db
from loyalty_social.queue import enqueue
from loyalty_social.rewards.models import Award
from loyalty_social.rules.models import Rule

from .conftest import T0, make_rule, process, review, share, store


@pytest.mark.postgres
def test_two_workers_racing_for_the_same_cap_pay_it_exactly(pg_rapp, pg_config, start_worker):
    cap_rule = make_rule(pg_rapp, limits={"per_member": [{"period": "month", "count": 4}]})
    budget_rule = make_rule(
        pg_rapp, name="budget", budget={"count": 37}, rewards=[{"kind": "fixed", "points": 3}]
    )
    members = [f"M-{i}" for i in range(12)]
    ids = [
        store(pg_rapp, "review.published", m, review(f"{m}-{k}"), at=T0 + timedelta(minutes=k))
        for k in range(6)
        for m in members
    ]  # 6 reviews each: the 5th and 6th must not pay
    with pg_rapp.app_context():
        # small interleaved jobs, so both workers hold events of the same members at once
        for start in range(0, len(ids), 3):
            enqueue("rules.process_events", ids[start : start + 3])
        db.session.remove()
    workers = [start_worker(pg_config, "--burst") for _ in range(2)]
    deadline = time.monotonic() + 120
    while any(w.process.poll() is None for w in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert all(w.process.returncode == 0 for w in workers), [w.log() for w in workers]
    with pg_rapp.app_context():
        awards = list(db.session.scalars(db.select(Award)))
        capped = [a for a in awards if a.rule_id == cap_rule]
        per_member = {m: sum(a.member_id == m for a in capped) for m in members}
        assert per_member == dict.fromkeys(members, 4)
        assert sum(a.rule_id == budget_rule for a in awards) == 37
        assert db.session.get(Rule, budget_rule).spent_count == 37
        db.session.remove()


def _statements(app, event_ids) -> int:
    count = [0]
    with app.app_context():
        engine = db.engine

    def _count(*args):
        count[0] += 1

    sa_event.listen(engine, "before_cursor_execute", _count)
    try:
        process(app, *event_ids)
    finally:
        sa_event.remove(engine, "before_cursor_execute", _count)
    return count[0]


def test_statements_per_batch_do_not_grow_with_rules_or_history(rapp):
    def batch(tag, members=("A", "B", "C", "D")):
        return [
            store(rapp, "social.shared", f"{tag}-{m}", share()) for m in members for _ in range(5)
        ]

    make_rule(
        rapp,
        event_types=["social.shared"],
        limits={"per_member": [{"period": "day", "count": 100}]},
    )
    few_rules = _statements(rapp, batch("x"))
    for i in range(30):
        make_rule(
            rapp,
            name=f"r{i}",
            event_types=["social.shared"],
            limits={"per_member": [{"period": "month", "points": 10_000}], "cooldown_seconds": 1},
        )
    with rapp.app_context():
        from loyalty_social.rules.active import forget_cached_rules

        forget_cached_rules()
    many_rules = _statements(rapp, batch("y"))
    history = batch("z")
    for start in range(0, len(history), 10):
        process(rapp, *history[start : start + 10])
    for _ in range(5):
        process(rapp, *batch("z"))
    with_history = _statements(rapp, batch("z"))
    assert few_rules <= 20, few_rules
    # one extra statement at most for the rules' cache reload; none for history
    assert many_rules <= few_rules + 2, (few_rules, many_rules)
    assert with_history <= many_rules, (many_rules, with_history)
