"""Console fixtures: an app with console users, and a signed-in browser without a browser
(Flask's test client: its cookie jar is the session) that reads CSRF tokens from the pages."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from loyalty_social.access import users

PASSWORD = "correct horse battery staple"
PEOPLE = {
    "viewer": "viewer@example.test",
    "editor": "editor@example.test",
    "approver": "approver@example.test",
    "admin": "admin@example.test",
}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_people(app, people=PEOPLE) -> dict[str, str]:
    """One console user per role; returns role -> user id."""
    with app.app_context():
        return {role: users.create_user(email, role, PASSWORD).id for role, email in people.items()}


class ConsoleClient:
    def __init__(self, app):
        self.app = app
        self.client = app.test_client()

    def csrf(self, path: str = "/console/login") -> str:
        return CSRF.search(self.client.get(path).text).group(1)

    def login(self, email: str, password: str = PASSWORD, **extra):
        return self.client.post(
            "/console/login",
            data={"email": email, "password": password, "csrf_token": self.csrf(), **extra},
        )

    def post(self, path: str, data: dict | None = None, page: str = "/console/"):
        return self.client.post(path, data={"csrf_token": self.csrf(page), **(data or {})})

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)


@pytest.fixture
def people(app):
    return add_people(app)


@pytest.fixture
def signed_in(app, people):
    """role -> a client signed in as that role's user."""

    def make(role: str) -> ConsoleClient:
        browser = ConsoleClient(app)
        response = browser.login(PEOPLE[role])
        assert response.status_code == 303, response.text
        return browser

    return make


SCREENSHOTS = Path(__file__).resolve().parent.parent.parent / "docs" / "screenshots"


def screenshot(page, name: str, top: bool = True) -> None:
    """Save ``docs/screenshots/console-<name>.png`` at 1280x800 when SAVE_SCREENSHOTS is set
    (`make screenshots`); otherwise nothing, so CI never rewrites them."""
    if not os.environ.get("SAVE_SCREENSHOTS"):
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    if top:
        page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOTS / f"console-{name}.png"))


def browser_sign_in(page, base_url: str, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{base_url}/console/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(f"{base_url}/console/")
