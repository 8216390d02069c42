"""The rule index: rules whose first clause cannot hold are not evaluated one by one, yet every
listening rule is still explained, exactly as if it had been evaluated."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from loyalty_social.extensions import db
from loyalty_social.intake.models import ActivityEvent
from loyalty_social.rewards.models import Award
from loyalty_social.rules.explanations import member_explanation, rule_explanations
from loyalty_social.rules.models import RuleSetSnapshot

from .conftest import T0, make_rule, process, review, send, store


def segment_rule(app, segment, **doc) -> str:
    doc.setdefault("name", f"segment {segment}")
    return make_rule(
        app,
        conditions={
            "all": [
                {"field": "member.attributes.segment", "op": "eq", "value": segment},
                {"field": "data.rating", "op": "ge", "value": 4},
            ]
        },
        **doc,
    )


def set_segment(app, segment, member_id="M-1", at=T0 - timedelta(days=1)) -> None:
    send(app, "member.updated", member_id, data={"attributes": {"segment": segment}}, at=at)


def explained(app, result, member_id="M-1") -> dict[str, dict]:
    with app.app_context():
        return {r["rule_id"]: r for r in member_explanation(member_id, result["id"])["rules"]}


@pytest.mark.parametrize("stack", ["rapp", "pg_rapp"])
def test_only_rules_whose_first_clause_can_hold_pay_and_every_rule_is_explained(request, stack):
    app = request.getfixturevalue(stack)
    by_segment = [segment_rule(app, s) for s in range(6)]
    either = make_rule(
        app,
        name="segments 2 or 4",
        conditions={"field": "member.attributes.segment", "op": "in", "value": [2, 4]},
    )
    set_segment(app, 4)
    result = send(app, "review.published", data=review("a"))

    assert sorted(a["rule_id"] for a in result["awards"]) == sorted([by_segment[4], either])
    # The five others cost no record each: the value seen is stored once.
    assert result["not_matched"] == []
    assert result["gated"]["seen"] == {"member.attributes.segment": 4}

    words = explained(app, result)
    assert set(words) == {*by_segment, either}
    for segment in (0, 1, 2, 3, 5):
        record = words[by_segment[segment]]
        assert record["code"] == "condition"
        assert record["message"].endswith(f"did not apply: segment must be {segment} (it was 4).")
    assert words[by_segment[4]]["code"] == "paid"

    with app.app_context():
        for_marketer = rule_explanations(by_segment[0])
    assert [(r["event_id"], r["code"]) for r in for_marketer] == [(result["id"], "condition")]
    assert for_marketer[0]["failure"]["clause"] == "/conditions/all/0"
    assert for_marketer[0]["failure"]["expected"] == "member.attributes.segment == 0"


def test_a_gated_out_rule_is_explained_by_the_first_check_that_stops_it(rapp):
    """Exclusive rules, schedules and minimum evidence come before conditions."""
    scheduled = segment_rule(
        rapp, 9, name="later", priority=100, schedule={"starts_at": "2026-12-01T00:00:00Z"}
    )
    confirmed_only = segment_rule(
        rapp, 9, name="confirmed", priority=100, evidence={"min": "confirmed"}
    )
    plain = segment_rule(rapp, 9, name="plain", priority=100)
    exclusive = make_rule(rapp, name="exclusive", priority=50, exclusive=True)
    below = segment_rule(rapp, 9, name="below", priority=10)
    set_segment(rapp, 1)
    result = send(rapp, "review.published", data=review("a"))

    assert [a["rule_id"] for a in result["awards"]] == [exclusive]
    codes = {rule_id: record["code"] for rule_id, record in explained(rapp, result).items()}
    assert codes == {
        scheduled: "schedule",
        confirmed_only: "evidence",
        plain: "condition",
        exclusive: "paid",
        below: "exclusive",
    }


def test_a_member_updated_earlier_in_the_same_batch_is_seen_with_the_new_value(rapp):
    old, new = segment_rule(rapp, 1), segment_rule(rapp, 2)
    set_segment(rapp, 1)
    update = store(rapp, "member.updated", data={"attributes": {"segment": 2}})
    reviewed = store(rapp, "review.published", data=review("a"), at=T0 + timedelta(minutes=1))
    process(rapp, update, reviewed)

    words = explained(rapp, {"id": reviewed})
    assert words[new]["code"] == "paid"
    assert words[old]["code"] == "condition"
    assert "(it was 2)" in words[old]["message"]


def test_a_missing_field_is_explained_as_missing(rapp):
    rule_id = segment_rule(rapp, 3)
    result = send(rapp, "review.published", data=review("a"))
    assert result["awards"] == []
    assert explained(rapp, result)[rule_id]["message"].endswith(
        "did not apply: segment must be 3 (it was missing)."
    )


def test_each_event_is_explained_by_the_rules_active_when_it_was_processed(rapp):
    first_rule = segment_rule(rapp, 1)
    set_segment(rapp, 5)
    before = send(rapp, "review.published", data=review("a"))
    second_rule = segment_rule(rapp, 2)
    after = send(rapp, "review.published", data=review("b"))

    assert set(explained(rapp, before)) == {first_rule}
    assert set(explained(rapp, after)) == {first_rule, second_rule}
    assert before["gated"]["rule_set"] != after["gated"]["rule_set"]
    with rapp.app_context():
        assert db.session.scalar(select(func.count()).select_from(RuleSetSnapshot)) == 2


def test_a_replayed_event_keeps_the_award_of_a_rule_it_would_now_gate_out(rapp):
    rule_id = segment_rule(rapp, 1)
    set_segment(rapp, 1)
    first = send(rapp, "review.published", data=review("a"))
    assert [a["rule_id"] for a in first["awards"]] == [rule_id]
    set_segment(rapp, 2, at=T0 + timedelta(hours=1))
    with rapp.app_context():
        event = db.session.get(ActivityEvent, first["id"])
        event.status = "pending"  # an operator's replay
        db.session.commit()
    process(rapp, first["id"])

    record = explained(rapp, first)[rule_id]
    assert record["code"] == "duplicate"
    with rapp.app_context():
        assert db.session.scalar(select(func.count()).select_from(Award)) == 1
