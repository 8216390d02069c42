"""A marketer writes a 7-day step streak in the rule form's streak fields (headless Chromium,
production server): the saved document is the one the API stores for the same rule, the edit
page shows it in the same fields, and once approved it pays on day 7 of the walk only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import requests

from loyalty_social.extensions import db
from loyalty_social.rules import reviews
from loyalty_social.rules.documents import document, json_safe
from loyalty_social.rules.models import Rule

from ..helpers import seed
from ..rules.conftest import paid, send
from .conftest import PEOPLE, add_people, browser_sign_in, screenshot
from .test_rule_streak_form import API_DOC

DAY1 = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)  # 08:00 in Berlin


def test_a_step_streak_written_in_the_form_pays_on_day_seven(
    sqlite_config, make_app, serve, chromium
):
    app = make_app(sqlite_config)
    ids = add_people(app)
    auth = seed(app, rules=(), scopes=("marketer",))["auth"]
    server = serve(sqlite_config)

    page = chromium.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(20000)
    browser_sign_in(page, server.url, PEOPLE["editor"])
    page.goto(f"{server.url}/console/rules/new")
    page.get_by_label("Name", exact=True).fill("Step streak")
    page.get_by_label("community.milestone").check()
    streak = page.get_by_label("Clause 1 streak event type")
    assert not streak.is_visible()  # a field clause shows no streak parts
    page.get_by_label("Clause 1 reads").select_option("streak")
    assert not page.get_by_label("Clause 1 field", exact=True).is_visible()
    streak.select_option("community.milestone")
    page.get_by_label("Clause 1 streak days in a row").fill("7")
    page.get_by_label("Clause 1 streak condition 1 field").fill("data.name")
    page.get_by_label("Clause 1 streak condition 1 value").fill("steps")
    page.get_by_label("Clause 1 streak condition 2 field").fill("data.value")
    page.get_by_label("Clause 1 streak condition 2 test").select_option("ge")
    page.get_by_label("Clause 1 streak condition 2 value").fill("8000")
    page.get_by_label("Points", exact=True).fill("100")
    page.get_by_label("Time zone").fill("Europe/Berlin")
    page.get_by_label("Clause 1 reads").evaluate("e => e.closest('fieldset').scrollIntoView()")
    screenshot(page, "rule-form-streak", top=False)
    page.get_by_role("button", name="Save draft").click()
    assert page.locator("#rule-status").inner_text() == "draft"
    rule_id = page.url.rstrip("/").rsplit("/", 1)[1]

    page.goto(f"{server.url}/console/rules/{rule_id}/edit")
    assert page.get_by_label("Clause 1 reads").input_value() == "streak"
    assert page.get_by_label("Clause 1 streak days in a row").input_value() == "7"
    assert page.get_by_label("Clause 1 streak condition 2 value").input_value() == "8000"

    by_api = requests.post(
        f"{server.url}/api/v1/rules",
        json={**API_DOC, "name": "Step streak (API)"},
        headers=auth,
        timeout=10,
    )
    assert by_api.status_code == 201, by_api.text
    with app.app_context():
        from_form = json_safe(document(db.session.get(Rule, rule_id)))
        from_api = json_safe(document(db.session.get(Rule, by_api.json()["id"])))
        assert from_form == {**from_api, "name": "Step streak"}
        reviews.request_activation(rule_id, f"console:{ids['editor']}")
        reviews.approve(rule_id, f"console:{ids['approver']}")

    def walk(day: int, value: int = 9000) -> int:
        data = {"name": "steps", "value": value, "unit": "steps"}
        return paid(send(app, "community.milestone", data=data, at=DAY1 + timedelta(days=day)))

    assert [walk(day) for day in range(6)] == [0] * 6
    assert walk(6) == 100
    assert walk(7) == 0  # the same streak goes on: paid once
