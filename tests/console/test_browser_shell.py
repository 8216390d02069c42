"""The console's shell in headless Chromium against the production server: sign in with the
keyboard, the navigation a role sees, the audit log's filters, the 403 page, sign out."""

from __future__ import annotations

from .conftest import PEOPLE, add_people, browser_sign_in, screenshot


def test_sign_in_navigate_filter_and_sign_out(sqlite_config, make_app, serve, chromium):
    add_people(make_app(sqlite_config))
    server = serve(sqlite_config)
    page = chromium.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(15000)
    page.goto(f"{server.url}/console/audit")
    assert "/console/login" in page.url
    assert page.evaluate("document.activeElement.id") == "email"  # ready to type
    screenshot(page, "login")
    page.get_by_label("Email").fill(PEOPLE["admin"])
    page.get_by_label("Password").fill("wrong password, twice")
    page.get_by_label("Password").press("Enter")
    assert page.locator("#login-message").inner_text() == "The email or password is wrong."
    browser_sign_in(page, server.url, PEOPLE["admin"])
    page.keyboard.press("Tab")  # the first stop is the skip link, and it works
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    nav = page.get_by_role("navigation", name="Console")
    assert nav.get_by_role("link", name="Users").is_visible()
    screenshot(page, "home")

    nav.get_by_role("link", name="Users").click()
    page.locator("#new-email").fill("tablet@example.test")
    page.locator("#new-role").select_option("viewer")
    page.locator("#new-password").fill("a long enough password")
    page.get_by_role("button", name="Add user").click()
    assert (
        page.locator("#users")
        .get_by_role("cell", name="tablet@example.test", exact=True)
        .is_visible()
    )
    screenshot(page, "users")

    nav.get_by_role("link", name="Audit log").click()
    page.get_by_label("Action").fill("console_user.created")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("#audit-records tbody tr")
    assert rows.count() == 5  # the four people of the test and the tablet user
    rows.first.get_by_text("before / after").click()
    assert "tablet@example.test" in rows.first.inner_text()  # newest first, with its snapshot
    assert PEOPLE["admin"] in rows.first.inner_text()  # who did it
    screenshot(page, "audit")

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{server.url}/console/login")
    page.goto(f"{server.url}/console/audit")
    assert "/console/login" in page.url
    page.close()


def test_a_viewer_sees_no_admin_controls_and_gets_the_403_page(
    sqlite_config, make_app, serve, chromium
):
    add_people(make_app(sqlite_config))
    server = serve(sqlite_config)
    page = chromium.new_page(viewport={"width": 1024, "height": 768})  # a tablet
    page.set_default_timeout(15000)
    browser_sign_in(page, server.url, PEOPLE["viewer"])
    nav = page.get_by_role("navigation", name="Console")
    assert nav.get_by_role("link", name="Audit log").is_visible()
    assert nav.get_by_role("link", name="Users").count() == 0
    page.goto(f"{server.url}/console/users")
    assert page.locator("h1").inner_text() == "Not allowed"
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    refused = page.request.post(
        f"{server.url}/console/users",
        form={"csrf_token": token, "email": "x@example.test", "role": "admin"},
    )
    assert refused.status == 403 and "This needs the admin role." in refused.text()
    page.close()
