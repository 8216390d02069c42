"""Campaigns from the budgets page: an editor creates one (audited as that person) and the
rule form offers it; bad input is refused beside its field with nothing written; a viewer
sees the campaigns but no form (the POST itself is refused by the role walk in test_forms)."""

from __future__ import annotations

import re

from loyalty_social.audit.models import AuditRecord
from loyalty_social.extensions import db
from loyalty_social.rules.models import Campaign


def test_an_editor_creates_a_campaign_the_rule_form_offers(app, signed_in, people):
    editor = signed_in("editor")
    created = editor.post(
        "/console/campaigns",
        {"name": "Spring boots", "budget_points": "5000", "budget_count": ""},
        page="/console/budgets",
    )
    assert created.status_code == 303
    page = editor.get("/console/budgets").text
    assert re.search(r'id="campaigns".*Spring boots</td>\s*<td>5,000 points</td>', page, re.S)
    with app.app_context():
        campaign = db.session.scalars(db.select(Campaign)).one()
        record = db.session.scalars(
            db.select(AuditRecord).where(AuditRecord.action == "campaign.created")
        ).one()
        assert (campaign.budget_points, campaign.budget_count) == (5000, None)
        assert record.actor == f"console:{people['editor']}"
        assert record.target_id == campaign.id
    form = editor.get("/console/rules/new").text
    assert f'<option value="{campaign.id}">Spring boots</option>' in form


def test_bad_campaign_input_is_refused_beside_its_field(app, signed_in):
    editor = signed_in("editor")
    for data, field in (
        ({"name": "x", "budget_points": "lots"}, "budget_points"),
        ({"name": "x", "budget_count": "0"}, "budget_count"),
        ({"name": "", "budget_points": "10"}, "name"),
        ({"name": "x" * 201}, "name"),
    ):
        refused = editor.post("/console/campaigns", data, page="/console/budgets")
        assert refused.status_code == 422, data
        assert f'id="err-{field}"' in refused.text, data
        assert "The campaign was not created." in refused.text
    with app.app_context():
        assert db.session.scalars(db.select(Campaign)).all() == []


def test_a_viewer_sees_campaigns_but_no_form(app, signed_in):
    page = signed_in("viewer").get("/console/budgets").text
    assert 'id="campaigns"' in page
    assert "Create campaign" not in page
