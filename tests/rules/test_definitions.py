"""Rule documents: validated on save with errors that point at the clause; conditions
evaluated without eval; rewards computed as documented."""

from types import SimpleNamespace

import pytest

from loyalty_social.rules import conditions
from loyalty_social.rules.compiled import compile_rule
from loyalty_social.rules.facts import Env, Facts
from loyalty_social.rules.limits import CounterStore
from loyalty_social.rules.schemas import RuleSchema
from loyalty_social.rules.service import RuleError, validate_document

from .conftest import T0, review


def _doc(**extra):
    return {
        "name": "r",
        "event_types": ["review.published"],
        "rewards": [{"kind": "fixed", "points": 5}],
        **extra,
    }


def test_errors_point_at_the_offending_clause():
    doc = _doc(
        conditions={
            "all": [
                {"field": "data.rating", "op": "ge", "value": 4},
                {"field": "data.ratin", "op": "ge", "value": 4},
                {"any": [{"field": "member.tier", "op": "in", "value": "gold"}]},
                {"not": {"field": "data.text_length", "op": "gtx", "value": 1}},
                {
                    "counter": {"event_type": "review.published", "period": "rolling"},
                    "op": "eq",
                    "value": 3,
                },
            ]
        },
        rewards=[{"kind": "formula", "field": "data.rating", "per": 0}],
    )
    with pytest.raises(RuleError) as caught:
        validate_document(doc)
    errors = caught.value.errors
    assert "/conditions/all/1/field" in errors  # a typo in a payload field
    assert "/conditions/all/2/any/0/value" in errors  # 'in' needs a list
    assert "/conditions/all/3/not/op" in errors
    assert "/conditions/all/4/counter/days" in errors
    assert {"/rewards/0/per", "/rewards/0/cap"} <= set(errors)
    assert "/conditions/all/0/field" not in errors


def test_schema_errors_are_pointers_too():
    with pytest.raises(RuleError) as caught:
        validate_document(_doc(event_types=["nope"], limits={"per_member": [{"period": "x"}]}))
    assert "/event_types/0" in caught.value.errors
    assert any(p.startswith("/limits/per_member/0") for p in caught.value.errors)


def test_conditions_are_data_not_code():
    """Field paths are looked up, never evaluated: a Python expression is just a missing key."""
    tree = {"field": "data.__class__.__mro__", "op": "exists", "value": True}
    assert conditions.validate(tree, data_fields=None) == {}
    node = conditions.compile_tree(tree)
    facts = _facts(review())
    assert node.failure(facts) is not None
    assert not hasattr(conditions, "eval")


def _facts(data, tier=None, attributes=None, linked=()):
    env = Env(CounterStore(persist=False))
    env._linked["M-1"] = list(linked)
    event = SimpleNamespace(
        id="e",
        type="review.published",
        member_id="M-1",
        occurred_at=T0,
        evidence="verified",
        source_name="backend",
        object_key="o",
        data=data,
    )
    member = SimpleNamespace(id="M-1", tier=tier, attributes=attributes or {}, created_at=T0)
    return Facts(event, member, env)


@pytest.mark.parametrize(
    ("clause", "data", "member", "holds"),
    [
        ({"field": "data.rating", "op": "ge", "value": 4}, review(rating=4), {}, True),
        ({"field": "data.rating", "op": "gt", "value": 4}, review(rating=4), {}, False),
        ({"field": "data.rating", "op": "ge", "value": "4"}, review(rating=4), {}, False),
        ({"field": "data.sku", "op": "in", "value": ["A", "SKU-1"]}, review(), {}, True),
        ({"field": "data.sku", "op": "not_in", "value": ["SKU-1"]}, review(), {}, False),
        ({"field": "data.text_length", "op": "between", "value": [100, None]}, review(), {}, True),
        (
            {"field": "data.product_name", "op": "length_between", "value": [3, 10]},
            review(product_name="Lamp"),
            {},
            True,
        ),
        (
            {"field": "data.product_name", "op": "length_between", "value": [5, None]},
            review(product_name="Lamp"),
            {},
            False,
        ),
        ({"field": "member.tier", "op": "eq", "value": "gold"}, review(), {"tier": "gold"}, True),
        (
            {"field": "member.country", "op": "in", "value": ["DE"]},
            review(),
            {"attributes": {"country": "DE"}},
            True,
        ),
        (
            {"field": "member.linked_networks", "op": "contains", "value": "x"},
            review(),
            {"linked": ["x"]},
            True,
        ),
        (
            {"field": "member.advocate_level", "op": "ge", "value": 2},
            review(),
            {"attributes": {"advocate_level": 1}},
            False,
        ),
        (
            {"not": {"field": "data.verified_purchase", "op": "eq", "value": True}},
            review(),
            {},
            True,
        ),
        (
            {
                "any": [
                    {"field": "data.rating", "op": "lt", "value": 2},
                    {"field": "data.sku", "op": "eq", "value": "SKU-1"},
                ]
            },
            review(),
            {},
            True,
        ),
        ({"all": []}, review(), {}, True),
    ],
)
def test_operators(clause, data, member, holds):
    assert conditions.validate(clause) == {}
    node = conditions.compile_tree(clause)
    facts = _facts(data, member.get("tier"), member.get("attributes"), member.get("linked", ()))
    assert (node.failure(facts) is None) is holds
    assert node.trace(facts)["result"] is holds


def test_failure_names_the_clause_and_the_value_seen():
    tree = {
        "all": [
            {"field": "data.rating", "op": "ge", "value": 1},
            {"field": "data.text_length", "op": "ge", "value": 100},
        ]
    }
    failed = conditions.compile_tree(tree).failure(_facts(review(text_length=42)))
    assert failed.path == "/conditions/all/1"
    assert failed.actual == 42
    assert "at least 100" in failed.words and "42" in failed.words


def _rule(**extra):
    return compile_rule(RuleSchema().load(_doc(**extra)), "r", 1, "active")


def test_formula_with_cap_tier_multiplier_and_evidence_scale():
    rule = _rule(
        event_types=["community.milestone"],
        rewards=[
            {"kind": "formula", "field": "data.value", "per": 1000, "points": 1, "cap": 50},
            {"kind": "tier_multiplier", "tiers": {"gold": 2}},
        ],
        evidence={"min": "claimed", "scale": {"claimed": 0.1, "verified": 1}},
    )
    steps = {"name": "steps_goal", "value": 12_345}
    assert rule.plan.compute(_facts(steps), "verified").points == 12
    assert rule.plan.compute(_facts(steps, tier="gold"), "verified").points == 24
    assert rule.plan.compute(_facts(steps), "claimed").points == 1  # floor(12 * 0.1)
    assert rule.plan.compute(_facts(steps), "tracked").points == 1  # nearest level below
    big = {"name": "steps_goal", "value": 10**9}
    assert rule.plan.compute(_facts(big, tier="gold"), "confirmed").points == 100


def test_two_points_for_a_claimed_share_and_twenty_for_a_verified_one():
    rule = _rule(
        event_types=["social.shared"],
        rewards=[{"kind": "fixed", "points": 20}],
        evidence={"min": "claimed", "scale": {"claimed": 0.1, "tracked": 0.1, "verified": 1}},
    )
    facts = _facts({"network": "x", "url": "https://a"})
    assert rule.plan.compute(facts, "claimed").points == 2
    assert rule.plan.compute(facts, "verified").points == 20
