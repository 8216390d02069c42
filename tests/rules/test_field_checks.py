"""Conditions are checked against the payload fields of the event types a rule listens to:
a field those types do not carry, or a value of another kind than the field, is refused by
the API (422 problem+json naming the clause) and by the console alike, before anything is
saved."""

from __future__ import annotations

import pytest

from loyalty_social.extensions import db
from loyalty_social.rules.models import Rule

PROBLEMS = "https://loyalty-social.dev/problems/"


def rule(conditions, event_types=("review.published",)):
    return {
        "name": "Reviews",
        "status": "active",
        "event_types": list(event_types),
        "conditions": conditions,
        "rewards": [{"kind": "fixed", "points": 50}],
    }


@pytest.mark.parametrize(
    ("conditions", "pointer", "says"),
    [
        (
            {"all": [{"field": "data.network", "op": "eq", "value": "x"}]},
            "/conditions/all/0/field",
            "carry no field 'network'",
        ),
        (
            {"all": [{"field": "data.rating", "op": "ge", "value": "four"}]},
            "/conditions/all/0/value",
            "data.rating is a number in review.published; 'four' is text",
        ),
        (
            {"any": [{"field": "data.rating", "op": "in", "value": [4, "5"]}]},
            "/conditions/any/0/value",
            "'5' is text",
        ),
        (
            {"not": {"field": "data.sku", "op": "eq", "value": 12}},
            "/conditions/not/value",
            "data.sku is text",
        ),
        (
            {
                "counter": {"event_type": "review.published", "period": "day"},
                "op": "le",
                "value": "ten",
            },
            "/conditions/value",
            "the counter is a number; 'ten' is text",
        ),
        (
            {"field": "data.text_length", "op": "eq", "value": True},
            "/conditions/value",
            "data.text_length is a number in review.published; True is true/false",
        ),
    ],
)
def test_the_api_refuses_conditions_the_events_cannot_meet(rapp, conditions, pointer, says):
    client = rapp.test_client()
    auth = rapp.config["SEEDED"]["auth"]
    response = client.post("/api/v1/rules", json=rule(conditions), headers=auth)
    assert response.status_code == 422, response.json
    assert response.content_type == "application/problem+json"
    assert response.json["type"] == PROBLEMS + "validation-failed"
    assert any(says in message for message in response.json["errors"]["json"][pointer])
    with rapp.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Rule)) == 0


def test_fields_of_any_listened_type_and_matching_values_are_accepted(rapp):
    client = rapp.test_client()
    auth = rapp.config["SEEDED"]["auth"]
    accepted = [
        rule({"all": [{"field": "data.rating", "op": "ge", "value": 4}]}),
        rule({"field": "data.rating", "op": "between", "value": [4, None]}),
        rule({"field": "data.verified_purchase", "op": "eq", "value": True}),
        # network is carried by social.shared, one of the listened types
        rule(
            {"field": "data.network", "op": "in", "value": ["x", "instagram"]},
            ("review.published", "social.shared"),
        ),
    ]
    for document in accepted:
        response = client.post("/api/v1/rules", json=document, headers=auth)
        assert response.status_code == 201, response.json
