"""A code pool import on the offers page (headless Chromium, production server): the offer's
"free codes" in the inventory table follows the import without a reload (htmx swaps the cell
out of band); a refused file leaves it as it was."""

from __future__ import annotations

from loyalty_social.extensions import db
from loyalty_social.rewards import offers

from .conftest import PEOPLE, add_people, browser_sign_in


def test_importing_codes_updates_the_free_codes_column(
    sqlite_config, make_app, serve, chromium, tmp_path
):
    app = make_app(sqlite_config)
    add_people(app)
    with app.app_context():
        boots = offers.create_offer(
            {"name": "Early boots", "product": "SKU-B", "inventory": 50, "uses_codes": True}
        ).id
        hats = offers.create_offer(
            {"name": "Early hats", "product": "SKU-H", "inventory": 50, "uses_codes": True}
        ).id
        db.session.remove()
    server = serve(sqlite_config)
    page = chromium.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(20000)
    browser_sign_in(page, server.url, PEOPLE["editor"])
    page.goto(f"{server.url}/console/offers")
    free = page.locator(f"#free-{boots}")
    assert free.inner_text() == "0"
    page.evaluate("window.notReloaded = true")

    bad = tmp_path / "bad.csv"
    bad.write_text("BOOT-1\nBOOT-1\n")
    page.locator("#codes-offer").select_option(boots)
    page.get_by_label("CSV file").set_input_files(str(bad))
    page.get_by_role("button", name="Import").click()
    page.locator("#codes-error").wait_for()
    assert free.inner_text() == "0"

    good = tmp_path / "good.csv"
    good.write_text("code\nBOOT-1\nBOOT-2\nBOOT-3\n")
    page.get_by_label("CSV file").set_input_files(str(good))
    page.get_by_role("button", name="Import").click()
    assert "3 new" in page.locator("#codes-done").inner_text()
    page.wait_for_function(f"document.getElementById('free-{boots}').textContent === '3'")
    row = page.locator("#offers tr", has_text="Early boots")
    assert row.get_by_role("cell").nth(6).inner_text() == "3"  # in its row, in its column
    assert page.locator(f"#free-{hats}").inner_text() == "0"  # the other offer's stays
    assert page.evaluate("window.notReloaded") is True
    page.close()
