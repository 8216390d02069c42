"""The console's shell in headless Chromium against the production server: sign in with the
keyboard, the navigation a role sees, the audit log's filters, the 403 page, sign out."""

from __future__ import annotations

from urllib.parse import urlsplit

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


# WCAG 2 contrast of every visible text element against its effective background.
CONTRAST = """() => {
  const parse = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = parse(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.9)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const low = [];
  for (const el of document.querySelectorAll("body *")) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    const box = el.getBoundingClientRect();
    if (!own || !box.width || getComputedStyle(el).visibility === "hidden") continue;
    if (el.closest(".visually-hidden, .skip-link")) continue;
    const [a, b] = [lum(parse(getComputedStyle(el).color)), lum(background(el))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const text = el.textContent.trim().slice(0, 30);
    if (ratio < 4.5) low.push(`${el.tagName}.${el.className}: ${ratio.toFixed(2)} "${text}"`);
  }
  return low;
}"""


def test_text_has_enough_contrast_on_every_shell_page(sqlite_config, make_app, serve, chromium):
    add_people(make_app(sqlite_config))
    server = serve(sqlite_config)
    page = chromium.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(15000)
    page.goto(f"{server.url}/console/login")
    assert page.evaluate(CONTRAST) == []
    browser_sign_in(page, server.url, PEOPLE["admin"])
    # every page of the navigation (pages added later are covered too), and two forms
    nav = page.get_by_role("navigation", name="Console").locator(".nav-links a")
    paths = [urlsplit(href).path for href in nav.evaluate_all("(a) => a.map((l) => l.href)")]
    assert len(paths) >= 4, paths
    for path in ("/console/", *paths, "/console/rules/new", "/console/audit?since=bad"):
        page.goto(f"{server.url}{path}")
        assert page.evaluate(CONTRAST) == [], path
    page.close()
