"""Every console form, found from the URL map (a new form is covered without a new test):
refused without the session's CSRF token, refused for a role below the one its view names,
and refused without a session."""

from __future__ import annotations

import pytest

from loyalty_social import create_app
from loyalty_social.access.users import ROLES
from loyalty_social.console.blueprint import PUBLIC

from ..conftest import TEST_SECRETS


def console_posts() -> list[tuple[str, str]]:
    """(endpoint, a URL for it) for every POST route of the console."""
    app = create_app({"ENV": "testing", "DATABASE_URL": "sqlite://", **TEST_SECRETS})
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("console.") and "POST" in rule.methods:
            values = {name: "x-missing" for name in rule.arguments}
            found.append((rule.endpoint, rule.build(values)[1]))
    return sorted(found)


POSTS = console_posts()


@pytest.fixture
def app(sqlite_config, make_app):
    """The guard is the same on every database: the walk runs on the embedded default."""
    return make_app(sqlite_config)


GUARDED = [(endpoint, url) for endpoint, url in POSTS if endpoint not in PUBLIC]


def test_the_walk_finds_the_forms():
    endpoints = {endpoint for endpoint, _ in POSTS}
    assert {"console.login", "console.logout", "console.user_create"} <= endpoints


@pytest.mark.parametrize(("endpoint", "url"), GUARDED, ids=[e for e, _ in GUARDED])
def test_every_form_names_its_role(app, endpoint, url):
    assert getattr(app.view_functions[endpoint], "console_role", None) in ROLES


@pytest.mark.parametrize(("endpoint", "url"), POSTS, ids=[e for e, _ in POSTS])
def test_every_form_needs_the_csrf_token(signed_in, endpoint, url):
    admin = signed_in("admin")
    for token in (None, "0" * 64):
        data = {"csrf_token": token} if token else {}
        response = admin.client.post(url, data=data)
        assert response.status_code == 400, (url, response.status_code)
        assert "The form expired" in response.text
    # a token of another session is as good as none
    other = signed_in("editor")
    response = admin.client.post(url, data={"csrf_token": other.csrf("/console/")})
    assert response.status_code == 400


@pytest.mark.parametrize(("endpoint", "url"), GUARDED, ids=[e for e, _ in GUARDED])
def test_every_form_refuses_a_lesser_role(app, signed_in, endpoint, url):
    needed = app.view_functions[endpoint].console_role
    for role in ROLES[: ROLES.index(needed)]:
        response = signed_in(role).post(url)
        assert response.status_code == 403, (role, url, response.status_code)
        assert f"This needs the {needed} role." in response.text


@pytest.mark.parametrize(("endpoint", "url"), GUARDED, ids=[e for e, _ in GUARDED])
def test_every_form_refuses_without_a_session(app, endpoint, url):
    from .conftest import ConsoleClient

    anonymous = ConsoleClient(app)
    response = anonymous.client.post(url, data={"csrf_token": anonymous.csrf()})
    assert response.status_code == 401
