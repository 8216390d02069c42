"""Rule pages through the form: a draft with conditions, a cap and a budget; errors beside the
field they belong to; maker-checker (the writer cannot approve; a second approver sees the
diff and activates or sends back); a proposed change to an active rule leaves the live one
paying until approved; version history with diffs; preview against a stored event."""

from __future__ import annotations

import re

from loyalty_social.extensions import db
from loyalty_social.rules import service as rules
from loyalty_social.rules.models import Rule, RuleReview

from .conftest import PEOPLE


def rule_form(**changes) -> dict:
    """The form as a marketer fills it: five-star reviews pay 50, twice a day at most, a
    1,000-point budget."""
    form = {
        "name": "Five-star reviews",
        "description": "",
        "event_types": ["review.published"],
        "conditions_mode": "simple",
        "match": "all",
        "condition_rows": "3",
        "c0_kind": "field",
        "c0_field": "data.rating",
        "c0_op": "ge",
        "c0_value": "5",
        "c1_kind": "counter",
        "c1_counter_type": "review.published",
        "c1_counter_period": "lifetime",
        "c1_op": "le",
        "c1_value": "10",
        "rewards_mode": "simple",
        "reward_kind": "fixed",
        "reward_points": "50",
        "evidence_min": "claimed",
        "limit_rows": "2",
        "l0_period": "day",
        "l0_count": "2",
        "budget_points": "1000",
        "timezone": "Europe/Paris",
        "starts_at": "2026-01-01T00:00",
        "priority": "100",
    }
    form.update(changes)
    return form


def the_rule(app) -> Rule:
    with app.app_context():
        rule = db.session.scalars(db.select(Rule)).one()
        db.session.expunge(rule)
        return rule


def test_editor_writes_a_draft_and_a_second_person_activates_it(app, signed_in, people):
    editor = signed_in("editor")
    assert editor.get("/console/rules/new").status_code == 200
    saved = editor.post("/console/rules", rule_form(), page="/console/rules/new")
    assert saved.status_code == 303, saved.text
    rule = the_rule(app)
    assert rule.status == "draft" and rule.budget_points == 1000 and rule.timezone == "Europe/Paris"
    with app.app_context():
        doc = rules.get_rule(rule.id).definition
    assert doc["conditions"] == {
        "all": [
            {"field": "data.rating", "op": "ge", "value": 5},
            {
                "counter": {"event_type": "review.published", "period": "lifetime"},
                "op": "le",
                "value": 10,
            },
        ]
    }
    assert doc["limits"]["per_member"] == [{"period": "day", "count": 2}]
    assert rule.starts_at.isoformat().startswith("2025-12-31T23:00")  # Paris midnight, in UTC

    page = f"/console/rules/{rule.id}"
    assert editor.post(f"{page}/request", {"note": "ready"}, page=page).status_code == 303
    # The writer is an approver too: still not allowed to approve their own change.
    with app.app_context():
        from loyalty_social.access import users

        users.set_role(people["editor"], "approver")
    refused = editor.post(f"{page}/approve", page=page)
    assert refused.status_code == 403 and "another approver" in refused.text
    assert "You wrote or requested this change" in editor.get(page).text

    approver = signed_in("approver")
    shown = approver.get(page).text
    assert "Activation requested" in shown and PEOPLE["editor"] in shown
    assert "/conditions/all/0/field" in shown  # the diff against nothing active
    assert approver.post(f"{page}/approve", page=page).status_code == 303
    rule = the_rule(app)
    assert rule.status == "active" and rule.updated_by == f"console:{people['approver']}"
    with app.app_context():
        assert db.session.get(RuleReview, rule.id) is None
    listed = approver.get("/console/rules").text
    assert "Five-star reviews" in listed and 'class="badge active"' in listed


def test_a_change_to_an_active_rule_waits_for_approval_and_can_be_sent_back(app, signed_in):
    editor, approver = signed_in("editor"), signed_in("approver")
    editor.post("/console/rules", rule_form(), page="/console/rules/new")
    rule = the_rule(app)
    page = f"/console/rules/{rule.id}"
    editor.post(f"{page}/request", page=page)
    approver.post(f"{page}/approve", page=page)

    edit = editor.get(f"{page}/edit")
    assert 'value="data.rating"' in edit.text and 'value="50"' in edit.text  # read back
    proposed = editor.post(page, rule_form(reward_points="80"), page=f"{page}/edit")
    assert proposed.status_code == 303
    live = the_rule(app)
    assert live.points == 50 and live.version == rule.version + 1  # still paying 50
    editor.post(f"{page}/request", page=page)
    shown = approver.get(page).text
    assert "/rewards/0/points" in shown and "80" in shown

    no_reason = approver.post(f"{page}/send-back", {"comment": "  "}, page=page)
    assert no_reason.status_code == 422
    assert approver.post(f"{page}/send-back", {"comment": "Keep 50"}, page=page).status_code == 303
    assert "Sent back" in editor.get(page).text and "Keep 50" in editor.get(page).text
    assert approver.post(f"{page}/approve", page=page).status_code == 409  # not requested now

    editor.post(f"{page}/request", page=page)
    approver.post(f"{page}/approve", page=page)
    assert the_rule(app).points == 80
    history = approver.get(f"{page}/versions").text
    assert "approved change" in history and "/rewards/0/points" in history
    assert "Version 3" in history and "Version 4" not in history


def test_errors_are_shown_beside_the_field_that_caused_them(app, signed_in):
    editor = signed_in("editor")
    bad = editor.post(
        "/console/rules",
        rule_form(c0_field="data.network", c1_value='"ten"', reward_points="0", l0_count="x"),
        page="/console/rules/new",
    )
    assert bad.status_code == 422
    # the form's own check first (a whole number), nothing saved
    assert 'id="err-l0_count"' in bad.text
    bad = editor.post(
        "/console/rules",
        rule_form(c0_field="data.network", c1_value='"ten"', reward_points="0"),
        page="/console/rules/new",
    )
    assert bad.status_code == 422
    text = bad.text
    assert re.search(r'id="err-c0_field"[^>]*>[^<]*carry no field &#39;network&#39;', text)
    assert re.search(r'id="err-c1_value"', text)
    assert re.search(r'id="err-reward_points"', text)
    assert 'value="data.network"' in text  # what was typed stays
    json_mode = editor.post(
        "/console/rules",
        rule_form(
            conditions_mode="json",
            conditions_json='{"all": [{"field": "data.rating", "op": "ge", "value": "four"}]}',
        ),
        page="/console/rules/new",
    )
    assert json_mode.status_code == 422
    assert "/conditions/all/0/value: data.rating is a number" in json_mode.text
    with app.app_context():
        assert db.session.scalars(db.select(Rule)).all() == []


def test_the_advanced_editor_keeps_what_the_structured_form_cannot_show(app, signed_in):
    editor = signed_in("editor")
    tree = (
        '{"any": [{"all": [{"field": "data.rating", "op": "ge", "value": 4}, '
        '{"field": "data.verified_purchase", "op": "eq", "value": true}]}, '
        '{"field": "data.text_length", "op": "ge", "value": 400}]}'
    )
    rewards = '[{"kind": "fixed", "points": 20}, {"kind": "fixed", "points": 5}]'
    saved = editor.post(
        "/console/rules",
        rule_form(
            conditions_mode="json",
            conditions_json=tree,
            rewards_mode="json",
            rewards_json=rewards,
            evidence_scale="claimed=0.5, verified=1",
            tier_multipliers="gold=2",
        ),
        page="/console/rules/new",
    )
    assert saved.status_code == 303, saved.text
    rule = the_rule(app)
    assert rule.definition["conditions"]["any"][0]["all"][1]["value"] is True
    assert rule.definition["evidence"]["scale"] == {"claimed": 0.5, "verified": 1.0}
    edit = editor.get(f"/console/rules/{rule.id}/edit").text
    assert '<option value="json" selected>Advanced: condition tree as JSON' in edit
    assert '<option value="json" selected>Advanced: rewards as JSON' in edit


def test_over_long_text_and_huge_numbers_are_refused_beside_their_fields(app, signed_in):
    editor = signed_in("editor")
    refused = editor.post(
        "/console/rules",
        rule_form(name="x" * 201, budget_points="9" * 5000, priority=str(10**12)),
        page="/console/rules/new",
    )
    assert refused.status_code == 422
    assert 'id="err-budget_points"' in refused.text  # not even a number Python will parse
    refused = editor.post(
        "/console/rules",
        rule_form(name="x" * 201, budget_points=str(10**12), priority=str(10**12)),
        page="/console/rules/new",
    )
    assert refused.status_code == 422
    for field in ("name", "budget_points", "priority"):
        assert f'id="err-{field}"' in refused.text, field
    nul = editor.post("/console/rules", rule_form(name="bad\x00name"), page="/console/rules/new")
    assert nul.status_code == 422
    with app.app_context():
        assert db.session.scalars(db.select(Rule)).all() == []


def test_a_negated_clause_is_a_row_with_not_ticked_and_reads_back_the_same(app, signed_in):
    """{"not": clause} without the JSON editor: "not a 1-star review", "not the 3rd today"."""
    editor = signed_in("editor")
    saved = editor.post(
        "/console/rules",
        rule_form(c0_negate="on", c0_op="eq", c0_value="1", c1_negate="on", c1_value="x"),
        page="/console/rules/new",
    )
    assert saved.status_code == 422  # the error of a negated clause: beside its value
    assert re.search(r'id="err-c1_value"', saved.text)
    assert re.search(r'id="c0_negate"[^>]*checked', saved.text)
    saved = editor.post(
        "/console/rules",
        rule_form(c0_negate="on", c0_op="eq", c0_value="1"),
        page="/console/rules/new",
    )
    assert saved.status_code == 303, saved.text
    rule = the_rule(app)
    assert rule.definition["conditions"]["all"][0] == {
        "not": {"field": "data.rating", "op": "eq", "value": 1}
    }
    edit = editor.get(f"/console/rules/{rule.id}/edit").text
    assert '<option value="simple" selected>Clauses (below)' in edit
    assert re.search(r'id="c0_negate"[^>]*checked', edit)
    assert not re.search(r'id="c1_negate"[^>]*checked', edit)
