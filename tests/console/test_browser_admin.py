"""The admin pages and the flag review in headless Chromium against the production server:
a key created in the console calls the API, shows when it was last used and is refused once
revoked; a subscription is added and disabled; a source created here accepts a webhook signed
with its secret, refuses it once disabled (after a confirmation) and accepts it again; an
approver marks flags reviewed and finds it in the audit log; a viewer sees none of it.
Tokens and secrets appear once on a page and never in the server's log. Screenshots at
1280x800 with `make screenshots`."""

from __future__ import annotations

import re

import requests

from loyalty_social.advocates.models import ReferralFlag
from loyalty_social.extensions import db
from loyalty_social.identity import service as identity
from loyalty_social.timeutil import utcnow

from ..helpers import envelope, signed
from .conftest import PEOPLE, add_people, browser_sign_in, screenshot
from .test_browser_shell import CONTRAST


def _raise_flags(app) -> None:
    with app.app_context():
        identity.flag("demo", "sub-7", "repeat_signup", ["M-7", "M-8"], "a second sign-up")
        db.session.add(
            ReferralFlag(
                id="rfl_burst",
                kind="burst",
                sharer_id="M-7",
                referred_member_id="M-9",
                detail="12 referrals within an hour",
                created_at=utcnow(),
            )
        )
        db.session.commit()
        db.session.remove()


def test_keys_subscriptions_and_sources_made_in_the_browser_work(
    sqlite_config, make_app, serve, chromium
):
    add_people(make_app(sqlite_config))
    server = serve(sqlite_config)
    page = chromium.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(15000)
    confirmations: list[str] = []

    def confirm(dialog):  # the confirmations before revoking or disabling
        confirmations.append(dialog.message)
        dialog.accept()

    page.on("dialog", confirm)
    browser_sign_in(page, server.url, PEOPLE["admin"])
    nav = page.get_by_role("navigation", name="Console")

    # An API key: created with chosen scopes, shown once, used, revoked.
    nav.get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("CRM sync")
    page.get_by_label("marketer", exact=False).check()
    page.get_by_role("button", name="Create key").click()
    token = page.locator("#new-token").inner_text()
    assert "shown only this once" in page.locator("#new-key").inner_text()
    screenshot(page, "api-keys")
    auth = {"Authorization": f"Bearer {token}"}
    flags_api = f"{server.url}/api/v1/identity-flags"
    row = page.locator("#api-keys tbody tr", has_text="CRM sync")
    assert row.get_by_role("cell", name="never", exact=True).count() == 1
    assert requests.get(flags_api, headers=auth, timeout=10).status_code == 200
    nav.get_by_role("link", name="API keys").click()
    assert token.split(".")[1] not in page.content()
    row = page.locator("#api-keys tbody tr", has_text="CRM sync")
    assert "marketer" in row.inner_text() and "active" in row.inner_text()
    assert row.get_by_role("cell", name="never", exact=True).count() == 0
    last_used = page.locator("#api-keys thead th").all_inner_texts().index("Last used")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", row.locator("td").nth(last_used).inner_text())
    row.get_by_role("button", name="Revoke CRM sync").click()
    page.wait_for_url(f"{server.url}/console/api-keys")
    assert "revoked" in page.locator("#api-keys tbody tr", has_text="CRM sync").inner_text()
    assert requests.get(flags_api, headers=auth, timeout=10).status_code == 401

    # A subscription: added (its secret shown once), listed, disabled.
    nav.get_by_role("link", name="Subscriptions").click()
    page.get_by_label("URL").fill("https://crm.example/hooks/loyalty")
    page.get_by_label("award.created").check()
    page.get_by_label("consent.changed").check()
    page.get_by_label("Description (optional)").fill("CRM")
    page.get_by_role("button", name="Add subscription").click()
    sub_secret = page.locator("#new-secret").inner_text()
    assert sub_secret.startswith("whsec_")
    row = page.locator("#subscriptions tbody tr", has_text="crm.example")
    assert "award.created, consent.changed" in row.inner_text()
    screenshot(page, "subscriptions")
    row.get_by_role("button", name="Disable").click()
    page.wait_for_url(f"{server.url}/console/subscriptions")
    row = page.locator("#subscriptions tbody tr", has_text="crm.example")
    assert "disabled" in row.inner_text() and row.get_by_role("button").count() == 0
    assert sub_secret not in page.content()

    # A source: created here, it accepts a webhook signed with the secret shown once.
    nav.get_by_role("link", name="Sources").click()
    page.get_by_label("Name").fill("re views")
    page.get_by_role("button", name="Add source").click()
    assert "a source name is" in page.locator("#src-name-error").inner_text()
    page.get_by_label("Name").fill("reviews")
    page.get_by_role("button", name="Add source").click()
    source_secret = page.locator("#new-secret").inner_text()
    assert page.locator("#sources").get_by_role("cell", name="reviews", exact=True).is_visible()
    screenshot(page, "sources")

    def send():
        raw, headers = signed(source_secret, envelope())
        url = f"{server.url}/webhooks/reviews"
        return requests.post(url, data=raw, headers=headers, timeout=10)

    assert send().status_code == 202
    # Disabled (after a confirmation), it is refused as an unknown source is; enabled, accepted.
    row = page.locator("#sources tbody tr", has_text="reviews")
    with page.expect_navigation():
        row.get_by_role("button", name="Disable reviews").click()
    assert confirmations[-1].startswith("Disable the source “reviews”?")
    row = page.locator("#sources tbody tr", has_text="reviews")
    assert row.get_by_role("cell", name="no", exact=True).count() == 1
    refused = send()
    assert refused.status_code == 404
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"].endswith("/unknown-source")
    row.get_by_role("button", name="Enable reviews").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")  # reachable from the keyboard
    assert page.get_by_role("button", name="Disable reviews").is_visible()
    assert send().status_code == 202

    for path in ("api-keys", "subscriptions", "sources"):
        page.goto(f"{server.url}/console/{path}")
        assert page.evaluate(CONTRAST) == [], path
    page.close()
    log = server.log(last=10**7)
    for secret in (token.split(".")[1], sub_secret, source_secret):
        assert secret not in log


def test_an_approver_marks_flags_reviewed_and_a_viewer_cannot(
    sqlite_config, make_app, serve, chromium
):
    app = make_app(sqlite_config)
    add_people(app)
    _raise_flags(app)
    server = serve(sqlite_config)
    page = chromium.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(15000)

    browser_sign_in(page, server.url, PEOPLE["viewer"])
    nav = page.get_by_role("navigation", name="Console")
    for label in ("API keys", "Subscriptions", "Sources", "Users"):
        assert nav.get_by_role("link", name=label).count() == 0
    nav.get_by_role("link", name="Operations").click()
    assert page.locator("#flags tbody tr").count() == 1
    assert page.get_by_role("button", name="Mark reviewed").count() == 0
    page.goto(f"{server.url}/console/api-keys")
    assert page.locator("h1").inner_text() == "Not allowed"
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    refused = page.request.post(
        f"{server.url}/console/api-keys",
        form={"csrf_token": token, "name": "mine", "scopes": "admin"},
    )
    assert refused.status == 403 and "This needs the admin role." in refused.text()
    no_token = page.request.post(
        f"{server.url}/console/operations/referral-flags/rfl_burst/resolve", form={}
    )
    assert no_token.status == 400
    page.get_by_role("button", name="Sign out").click()

    browser_sign_in(page, server.url, PEOPLE["approver"])
    page.goto(f"{server.url}/console/operations")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.evaluate("document.getElementById('flags-title').scrollIntoView()")
    screenshot(page, "flags", top=False)
    identity_row = page.locator("#flags tbody tr").first
    identity_row.get_by_label("Note on flag", exact=False).fill("same person, one account kept")
    identity_row.get_by_role("button", name="Mark flag", exact=False).click()
    assert "marked reviewed" in page.locator("#ops-notice").inner_text()
    assert page.locator("#flags tbody").inner_text().strip() == "No open flags."
    referral_row = page.locator("#referral-flags tbody tr", has_text="rfl_burst")
    referral_row.get_by_role("button", name="Mark flag rfl_burst reviewed").click()
    assert page.locator("#referral-flags tbody").inner_text().strip() == "No open flags."

    page.get_by_role("navigation", name="Console").get_by_role("link", name="Audit log").click()
    page.get_by_label("Action").fill("identity_flag.resolved")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("#audit-records tbody tr")
    assert rows.count() == 1 and PEOPLE["approver"] in rows.first.inner_text()
    rows.first.get_by_text("before / after").click()
    assert "same person, one account kept" in rows.first.inner_text()
    page.close()
