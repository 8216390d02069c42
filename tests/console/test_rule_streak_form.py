"""Streaks in the rule form's structured fields: a 7-day step streak written in the form saves
the document the API stores for the same rule, reads back into the same fields when edited,
and the API's errors (clause pointers under /streak) appear beside the streak's fields."""

from __future__ import annotations

import re

from loyalty_social.extensions import db
from loyalty_social.rules.documents import document, json_safe
from loyalty_social.rules.models import Rule

from ..helpers import seed

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
API_DOC = {
    "name": "Step streak",
    "event_types": ["community.milestone"],
    "conditions": {"all": [STREAK]},
    "rewards": [{"kind": "fixed", "points": 100}],
    "schedule": {"timezone": "Europe/Berlin"},
}


def streak_form(**changes) -> dict:
    """The form as a marketer fills it: 100 points for steps >= 8000 on 7 Berlin days in a row."""
    form = {
        "name": "Step streak",
        "event_types": ["community.milestone"],
        "conditions_mode": "simple",
        "match": "all",
        "condition_rows": "2",
        "c0_kind": "streak",
        "c0_streak_type": "community.milestone",
        "c0_streak_days": "7",
        "c0_where_rows": "3",
        "c0_w0_field": "data.name",
        "c0_w0_op": "eq",
        "c0_w0_value": "steps",
        "c0_w1_field": "data.value",
        "c0_w1_op": "ge",
        "c0_w1_value": "8000",
        "c0_op": "eq",  # the row's own test is not a streak's
        "rewards_mode": "simple",
        "reward_kind": "fixed",
        "reward_points": "100",
        "evidence_min": "claimed",
        "limit_rows": "0",
        "timezone": "Europe/Berlin",
        "priority": "100",
    }
    form.update(changes)
    return form


def stored(app, name: str) -> dict:
    with app.app_context():
        rule = db.session.scalars(db.select(Rule).where(Rule.name == name)).one()
        return json_safe(document(rule))


def test_a_streak_from_the_form_is_the_rule_the_api_stores(app, signed_in):
    auth = seed(app, rules=(), scopes=("marketer",))["auth"]
    editor = signed_in("editor")
    saved = editor.post("/console/rules", streak_form(), page="/console/rules/new")
    assert saved.status_code == 303, saved.text
    by_api = app.test_client().post(
        "/api/v1/rules", json={**API_DOC, "name": "Step streak (API)"}, headers=auth
    )
    assert by_api.status_code == 201, by_api.text
    from_form = stored(app, "Step streak")
    assert from_form["conditions"] == {"all": [STREAK]}
    assert from_form == {**stored(app, "Step streak (API)"), "name": "Step streak"}


def test_editing_a_streak_shows_its_fields_and_saves_it_unchanged(app, signed_in):
    editor = signed_in("editor")
    editor.post("/console/rules", streak_form(), page="/console/rules/new")
    with app.app_context():
        rule_id = db.session.scalars(db.select(Rule.id)).one()
    before = stored(app, "Step streak")
    page = editor.get(f"/console/rules/{rule_id}/edit").text
    assert '<option value="simple" selected>Clauses (below)' in page
    assert '<option value="streak" selected>a streak</option>' in page
    assert re.search(r'id="c0_streak_type"[^>]*>.*?<option selected>community.milestone<', page)
    assert re.search(r'id="c0_streak_days"[^>]*value="7"', page)
    assert re.search(r'id="c0_w1_field"[^>]*value="data.value"', page)
    assert re.search(r'id="c0_w1_value"[^>]*value="8000"', page)
    # the page's fields submitted as they are: the same document
    fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page))
    resaved = editor.post(
        f"/console/rules/{rule_id}",
        streak_form(**{k: v for k, v in fields.items() if k.startswith("c0_")}),
        page=f"/console/rules/{rule_id}/edit",
    )
    assert resaved.status_code == 303, resaved.text
    assert stored(app, "Step streak") == before


def test_streak_errors_appear_beside_the_streak_fields(app, signed_in):
    editor = signed_in("editor")
    refused = editor.post(
        "/console/rules",
        streak_form(c0_streak_days="1", c0_w1_field="data.steps", c0_w0_value="[1, 2]"),
        page="/console/rules/new",
    )
    assert refused.status_code == 422
    text = refused.text
    assert re.search(r'id="err-c0_streak_days"[^>]*>[^<]*between 2 and', text), text
    assert 'id="err-c0_w1_field"' in text
    assert 'id="err-c0_w0_value"' in text
    assert re.search(r'id="c0_w1_field"[^>]*value="data.steps"', text)  # what was typed stays
    not_a_number = editor.post(
        "/console/rules", streak_form(c0_streak_days="seven"), page="/console/rules/new"
    )
    assert not_a_number.status_code == 422
    assert 'id="err-c0_streak_days"' in not_a_number.text
    with app.app_context():
        assert db.session.scalars(db.select(Rule)).all() == []


def test_a_field_that_must_be_absent_is_written_in_the_clause_fields(app, signed_in):
    """exists with value false ("the event has no such field") needs no JSON editor."""
    editor = signed_in("editor")
    form = streak_form(
        c1_kind="field", c1_field="data.unit", c1_op="exists", c1_value="false", c0_w2_op="eq"
    )
    assert editor.post("/console/rules", form, page="/console/rules/new").status_code == 303
    saved = stored(app, "Step streak")
    assert saved["conditions"]["all"][1] == {"field": "data.unit", "op": "exists", "value": False}
    with app.app_context():
        rule_id = db.session.scalars(db.select(Rule.id)).one()
    page = editor.get(f"/console/rules/{rule_id}/edit").text
    assert re.search(r'id="c1_value"[^>]*value="false"', page)
    assert '<option value="simple" selected>Clauses (below)' in page
