"""The marketer's analytics, budgets, backtest, offers and operations pages in headless
Chromium against the production server (granian, SQLite, jobs in-process): webhooks sent,
the award seen in the charts, the budget banner, a backtest's progress and chart, a code
pool import with a bad line. Screenshots at 1280x800 with `make screenshots`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import requests

from loyalty_social.extensions import db
from loyalty_social.rewards import offers
from loyalty_social.rules import service

from ..console.conftest import PEOPLE, add_people, browser_sign_in, screenshot
from ..console.test_browser_shell import CONTRAST
from ..helpers import envelope, seed, signed, wait_until


def _rule(app) -> str:
    with app.app_context():
        rule = service.create_rule(
            {
                "name": "Shares pay 10",
                "event_types": ["social.shared"],
                "rewards": [{"kind": "fixed", "points": 10}],
                "budget": {"points": 20},
            },
            actor="tests",
            status="active",
        )
        offer = offers.create_offer(
            {"name": "Early boots", "product": "SKU-B", "inventory": 50, "uses_codes": True}
        )
        ids = rule.id, offer.id
        db.session.remove()
        return ids


def _processed(server, auth, event_id) -> bool:
    answer = requests.get(f"{server.url}/api/v1/events/{event_id}", headers=auth, timeout=10)
    return answer.json().get("status") == "processed"


def test_webhooks_to_charts_banner_backtest_and_code_import_screenshots(
    sqlite_config, make_app, serve, chromium, tmp_path
):
    app = make_app(sqlite_config)
    seeded = seed(app, rules=(), scopes=("read", "operator"))
    add_people(app)
    rule_id, _offer_id = _rule(app)
    server = serve(sqlite_config)
    for member, network in (("M-1", "instagram"), ("M-2", "x")):
        body = envelope(
            member_id=member, data={"network": network, "url": f"https://e.test/{member}"}
        )
        raw, headers = signed(seeded["secret"], body)
        answer = requests.post(
            f"{server.url}/webhooks/backend", data=raw, headers=headers, timeout=10
        )
        assert answer.status_code == 202, answer.text
        event_id = answer.json()["id"]
        wait_until(lambda e=event_id: _processed(server, seeded["auth"], e))

    page = chromium.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(20000)
    browser_sign_in(page, server.url, PEOPLE["editor"])
    # The budget (20 points) is spent: every page says so.
    banner = page.locator(".budget-banner")
    assert "“Shares pay 10” at 100.0 %" in banner.inner_text()

    nav = page.get_by_role("navigation", name="Console")
    nav.get_by_role("link", name="Analytics").click()
    assert "20 points from" in page.locator("#points-by-rule-summary").inner_text()
    assert "most from Shares pay 10 (20)" in page.locator("#points-by-rule-summary").inner_text()
    page.wait_for_function(
        "() => Chart.getChart(document.getElementById('points-by-network-chart')) !== undefined"
    )
    networks = page.evaluate(
        "() => Chart.getChart(document.getElementById('points-by-network-chart'))"
        ".data.datasets.map(d => d.label).sort()"
    )
    assert networks == ["instagram", "x"]
    page.get_by_text("Table").first.click()
    assert (
        page.locator("#points-by-rule-table").get_by_role("cell", name="Shares pay 10").is_visible()
    )
    screenshot(page, "analytics")

    nav.get_by_role("link", name="Budgets").click()
    assert page.locator("#budgets").get_by_text("100 % reached").is_visible()
    screenshot(page, "budgets")

    nav.get_by_role("link", name="Backtests").click()
    page.get_by_label("Rule").select_option(rule_id)
    today = datetime.now(UTC).date()
    page.get_by_label("From").fill((today - timedelta(days=7)).isoformat())
    page.get_by_label("To").fill(today.isoformat())
    page.get_by_role("button", name="Start backtest").click()
    summary = page.locator("#backtest-summary")
    summary.wait_for()
    assert "2 events scanned; would have paid 2 awards" in summary.inner_text()
    assert "costing 20 points" in summary.inner_text()
    page.wait_for_function(
        "() => Chart.getChart(document.getElementById('backtest-chart')) !== undefined"
    )
    screenshot(page, "backtest")

    nav.get_by_role("link", name="Offers").click()
    bad = tmp_path / "codes.csv"
    bad.write_text("code\nBOOT-1\nBOOT-2\nBOOT-1\n")
    page.get_by_label("CSV file").set_input_files(str(bad))
    page.get_by_role("button", name="Import").click()
    assert "Line 4: the same code as line 2" in page.locator("#codes-error").inner_text()
    good = tmp_path / "good.csv"
    good.write_text("BOOT-1\nBOOT-2\nBOOT-3\n")
    page.get_by_label("CSV file").set_input_files(str(good))
    page.get_by_role("button", name="Import").click()
    assert "3 new" in page.locator("#codes-done").inner_text()
    assert page.locator("#codes-progress").get_attribute("value") == "100"
    screenshot(page, "offers")

    nav.get_by_role("link", name="Operations").click()
    assert page.locator("#events tbody tr").count() == 2
    screenshot(page, "operations")
    # Every text of these pages readable (WCAG 4.5:1), the banner's and the badges' included.
    for path in ("analytics", "budgets", "backtests", "offers", "operations"):
        page.goto(f"{server.url}/console/{path}")
        assert page.evaluate(CONTRAST) == [], path
    page.close()
