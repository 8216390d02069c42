"""The analytics, budgets, backtest, offers and operations pages through the console's test
client: what each role sees, CSV exports, refusals without the role or the CSRF token."""

from __future__ import annotations

import csv
import io

import pytest

from loyalty_social.extensions import db
from loyalty_social.rewards import offers

from ..console.conftest import PEOPLE, ConsoleClient, add_people
from ..rules.conftest import make_rule, send, share


@pytest.fixture
def console_app(rapp):
    add_people(rapp)
    return rapp


def signed_in(app, role) -> ConsoleClient:
    client = ConsoleClient(app)
    assert client.login(PEOPLE[role]).status_code == 303
    return client


def test_analytics_page_tables_and_csv(console_app):
    rule_id = make_rule(
        console_app,
        name="Share it",
        event_types=["social.shared"],
        rewards=[{"kind": "fixed", "points": 6}],
    )
    send(console_app, "social.shared", "M-1", share(network="instagram"))
    viewer = signed_in(console_app, "viewer")
    page = viewer.get("/console/analytics")
    assert page.status_code == 200
    assert "6 points from" in page.text and "Share it" in page.text
    assert 'id="points-by-network-chart"' in page.text and "instagram" in page.text
    exported = viewer.get("/console/analytics/points-by-rule.csv")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0] == ["day", "rule", "count", "points"] and rows[1][1:] == ["Share it", "1", "6"]
    assert viewer.get("/console/analytics?since=2026-02-31").status_code == 422
    assert viewer.get("/console/analytics/nope.csv").status_code == 404
    for table in ("funnel", "consent", "advocates", "events-by-type"):
        assert viewer.get(f"/console/analytics/{table}.csv").status_code == 200
    assert rule_id


def test_budget_banner_and_bars(console_app):
    make_rule(
        console_app,
        name="Capped",
        event_types=["social.shared"],
        rewards=[{"kind": "fixed", "points": 10}],
        budget={"points": 20},
    )
    viewer = signed_in(console_app, "viewer")
    assert "budget-banner" not in viewer.get("/console/").text
    for member in ("M-1", "M-2"):
        send(console_app, "social.shared", member, share())
    home = viewer.get("/console/").text
    assert "budget-banner" in home and "“Capped” at 100.0 %" in home
    budgets = viewer.get("/console/budgets").text
    assert "100 % reached" in budgets


def test_code_import_roles_csrf_and_bad_lines(console_app):
    with console_app.app_context():
        offer_id = offers.create_offer(
            {"name": "Boots", "product": "SKU", "inventory": 5, "uses_codes": True}
        ).id
        db.session.remove()
    viewer, editor = signed_in(console_app, "viewer"), signed_in(console_app, "editor")
    form = lambda client, text: {  # noqa: E731
        "csrf_token": client.csrf("/console/offers"),
        "offer_id": offer_id,
        "codes": (io.BytesIO(text.encode()), "codes.csv"),
    }
    assert "Import codes" not in viewer.get("/console/offers").text
    refused = viewer.client.post("/console/offers/codes", data=form(viewer, "A\n"))
    assert refused.status_code == 403
    no_token = editor.client.post(
        "/console/offers/codes", data={"offer_id": offer_id, "codes": (io.BytesIO(b"A"), "a.csv")}
    )
    assert no_token.status_code == 400
    bad = editor.client.post("/console/offers/codes", data=form(editor, "A-1\nA-2\nA-1\n"))
    assert bad.status_code == 422 and "Line 3: the same code as line 1" in bad.text
    good = editor.client.post("/console/offers/codes", data=form(editor, "A-1\nA-2\n"))
    assert good.status_code == 200 and "2 new" in good.text
    with console_app.app_context():
        assert offers.free_codes(offer_id) == 2
        db.session.remove()


def test_operations_roles(console_app):
    make_rule(console_app, event_types=["social.shared"])
    result = send(console_app, "social.shared", "M-1", share())
    viewer, editor, admin = (signed_in(console_app, r) for r in ("viewer", "editor", "admin"))
    page = viewer.get(f"/console/operations?event_id={result['id']}").text
    assert result["id"] in page and "Replay" not in page and "Rotate secret" not in page
    replay = f"/console/operations/events/{result['id']}/replay"
    assert viewer.post(replay, page="/console/operations").status_code == 403
    assert editor.post(replay, page="/console/operations").status_code == 200
    rotate = "/console/operations/sources/backend/rotate"
    assert editor.post(rotate, page="/console/operations").status_code == 403
    rotated = admin.post(rotate, page="/console/operations")
    assert rotated.status_code == 200 and 'id="new-secret"' in rotated.text
