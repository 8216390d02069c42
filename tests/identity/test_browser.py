"""The portal in headless Chromium (Debian's chromium, driven by Playwright), against the app
under its production server and the real OIDC provider: arrive, link, see it, unlink."""

from __future__ import annotations

import uuid

from .conftest import PORTAL, identity_settings, member_assertion


def test_member_links_and_unlinks_in_a_real_browser(sqlite_config, oidc_provider, serve, chromium):
    server = serve(sqlite_config | identity_settings(oidc_provider))
    subject = f"browser-{uuid.uuid4().hex[:8]}"
    page = chromium.new_page()
    page.set_default_timeout(15000)
    token = member_assertion("M-browser", return_to=f"{PORTAL}/account")
    page.goto(f"{server.url}/portal/start?assertion={token}")
    assert page.url == f"{server.url}/portal/connections"
    card = page.locator("#provider-mock")
    assert card.get_attribute("data-linked") == "no"

    card.get_by_role("button", name="Link Mock ID").click()
    page.wait_for_url(f"{oidc_provider}/oauth2/authorize*")  # the provider's login page
    page.fill("input[name=sub]", subject)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{server.url}/portal/connections")
    assert page.locator("#notice").inner_text() == "Your Mock ID account is linked."
    assert card.get_attribute("data-linked") == "yes"
    assert subject in card.locator(".linked-as").inner_text()

    card.get_by_role("button", name="Unlink").click()
    page.wait_for_selector("#notice")
    assert page.locator("#notice").inner_text() == "The account was unlinked."
    assert card.get_attribute("data-linked") == "no"
    page.close()
