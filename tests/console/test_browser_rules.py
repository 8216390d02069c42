"""The marketer's whole path in headless Chromium against the production server (granian,
embedded default): an editor writes a rule with conditions, a cap and a budget, previews it on
a stored event and requests activation; an approver activates it; signed webhooks arrive and
the rule list shows the points paid this week; a held award is approved; a viewer sees no
edit control and is refused when posting anyway. Screenshots at 1280x800 (make screenshots)."""

from __future__ import annotations

import requests

from loyalty_social.intake.sources import add_source
from loyalty_social.rules import service as rules

from ..helpers import envelope, signed, wait_until
from .conftest import PEOPLE, add_people, browser_sign_in, screenshot


def send_review(server, secret: str, review_id: str, rating: int = 5) -> None:
    body = envelope(
        "review.published",
        member_id="M-1",
        data={
            "review_id": review_id,
            "platform": "trustpilot",
            "sku": "SKU-1",
            "rating": rating,
            "text_length": 300,
        },
    )
    raw, headers = signed(secret, body)
    answer = requests.post(f"{server.url}/webhooks/backend", data=raw, headers=headers, timeout=10)
    assert answer.status_code == 202, answer.text


def test_write_preview_approve_pay_and_hold(sqlite_config, make_app, serve, chromium):
    app = make_app(sqlite_config)
    add_people(app)
    with app.app_context():
        secret = add_source("backend", max_evidence="verified")
        rules.create_rule(
            {
                "name": "Shares over 1 point wait for review",
                "event_types": ["social.shared"],
                "rewards": [{"kind": "fixed", "points": 15}],
                "hold": {"above_points": 1},
            },
            actor="tests",
            status="active",
        )
    server = serve(sqlite_config)
    send_review(server, secret, "before-the-rule")  # a stored event to preview with

    editor = chromium.new_page(viewport={"width": 1280, "height": 800})
    editor.set_default_timeout(20000)
    browser_sign_in(editor, server.url, PEOPLE["editor"])
    editor.get_by_role("link", name="Rules").first.click()
    editor.get_by_role("button", name="New rule").click()
    editor.get_by_label("Name", exact=True).fill("Five-star reviews")
    editor.get_by_label("review.published").check()
    editor.get_by_label("Clause 1 field").fill("data.rating")
    editor.get_by_label("Clause 1 test").select_option("ge")
    editor.get_by_label("Clause 1 value").fill("five")  # a typo the rules service refuses
    editor.get_by_label("Points", exact=True).fill("50")
    editor.get_by_label("Limit 1 awards").fill("2")  # the cap: two a day
    editor.get_by_label("Budget (points)").fill("1000")
    screenshot(editor, "rule-form")
    editor.get_by_role("button", name="Save draft").click()
    error = editor.locator("#err-c0_value")
    assert "data.rating is a number in review.published" in error.inner_text()
    assert editor.get_by_label("Clause 1 value").get_attribute("aria-invalid") == "true"
    editor.get_by_label("Clause 1 value").fill("5")
    editor.get_by_role("button", name="Save draft").click()
    assert editor.locator("#rule-status").inner_text() == "draft"

    editor.get_by_label("A stored event").select_option(index=1)
    editor.get_by_role("button", name="Preview").click()
    outcome = editor.locator("#preview-outcome")
    outcome.wait_for()
    assert outcome.get_attribute("data-result") == "paid"
    assert "50 points" in outcome.inner_text()
    assert "✓ holds" in editor.locator("#preview-result .trace").inner_text()
    screenshot(editor, "rule-preview", top=False)
    editor.get_by_role("button", name="Request activation").click()
    assert "Activation requested" in editor.locator("#review-state").inner_text()

    approver = chromium.new_page(viewport={"width": 1280, "height": 800})
    approver.set_default_timeout(20000)
    browser_sign_in(approver, server.url, PEOPLE["approver"])
    approver.goto(f"{server.url}/console/rules")
    approver.get_by_role("link", name="Five-star reviews").click()
    assert "/conditions/all/0/value" in approver.locator("#diff").inner_text()
    screenshot(approver, "rule-review")
    approver.get_by_role("button", name="Approve and activate").click()
    assert approver.locator("#rule-status").inner_text() == "active"

    for n in range(3):  # the cap pays two of them
        send_review(server, secret, f"after-{n}")
    raw, headers = signed(secret, envelope("social.shared", member_id="M-1"))
    shared = requests.post(f"{server.url}/webhooks/backend", data=raw, headers=headers, timeout=10)
    assert shared.status_code == 202

    def paid_this_week():
        approver.goto(f"{server.url}/console/rules")
        row = approver.locator("tr", has_text="Five-star reviews")
        return row.locator(".points-week").inner_text() == "100"

    wait_until(paid_this_week, timeout=30, interval=0.5)
    screenshot(approver, "rules")

    approver.get_by_role("link", name="Approvals").first.click()
    row = approver.locator("#held tbody tr").first
    assert "held for review: 15 points is above the rule" in row.locator(".reason").inner_text()
    screenshot(approver, "approvals")
    row.get_by_role("button", name="Approve").click()
    assert "paid 15 points" in approver.locator("#outcomes").inner_text()
    assert approver.locator("#no-held").is_visible()

    approver.goto(f"{server.url}/console/rules")
    approver.get_by_role("link", name="Five-star reviews").click()
    approver.get_by_role("button", name="Version history").click()
    assert "approved and activated" in approver.locator(".versions").inner_text()
    screenshot(approver, "rule-versions")

    viewer = chromium.new_page(viewport={"width": 1024, "height": 768})
    viewer.set_default_timeout(20000)
    browser_sign_in(viewer, server.url, PEOPLE["viewer"])
    viewer.goto(f"{server.url}/console/rules")
    assert viewer.get_by_role("button", name="New rule").count() == 0
    viewer.get_by_role("link", name="Five-star reviews").click()
    assert viewer.get_by_role("button", name="Propose a change").count() == 0
    assert viewer.get_by_role("button", name="Pause").count() == 0
    token = viewer.locator("input[name=csrf_token]").first.get_attribute("value")
    rule_url = viewer.url
    refused = viewer.request.post(
        f"{rule_url}/status", form={"csrf_token": token, "status": "paused"}
    )
    assert refused.status == 403 and "This needs the approver role." in refused.text()
    viewer.goto(f"{server.url}/console/approvals")
    assert viewer.get_by_role("button", name="Approve selected").count() == 0
    for page in (editor, approver, viewer):
        page.close()
