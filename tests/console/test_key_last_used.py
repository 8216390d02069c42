"""When an API key was last used: recorded when it authenticates, at most once per
KEY_LAST_USED_RESOLUTION per key and process (a busy caller costs no write per request), in a
transaction of its own that never fails the request; shown on the API keys page ("never"
until then) and by `loyalty-social apikey list`. Revision 0023 adds the column."""

from __future__ import annotations

import logging
import re

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from loyalty_social.access.models import ApiKey
from loyalty_social.access.service import create_key
from loyalty_social.extensions import db

from ..conftest import run_cli
from ..helpers import drift_in


@pytest.fixture
def app(stack_config, make_app):
    return make_app(stack_config)


def key_updates(app) -> list[str]:
    """Every UPDATE of api_key the app's engine runs from now on."""
    seen: list[str] = []
    with app.app_context():
        engine = db.engine

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _count(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("UPDATE API_KEY"):
            seen.append(statement)

    return seen


def last_used(app, key_id: str):
    with app.app_context():
        value = db.session.get(ApiKey, key_id).last_used_at
        db.session.remove()
        return value


def make_key(app, name: str = "crm") -> tuple[str, dict]:
    with app.app_context():
        token = create_key(name, ["marketer"])
    return token.split(".")[0], {"Authorization": f"Bearer {token}"}


def test_a_used_key_shows_when_and_a_second_use_within_the_resolution_writes_nothing(
    app, client, signed_in
):
    key_id, auth = make_key(app)
    admin = signed_in("admin")
    row = re.compile(rf"<code>{key_id}</code>.*?</tr>", re.S)
    assert "<td>never</td>" in row.search(admin.get("/console/api-keys").text).group(0)
    assert last_used(app, key_id) is None

    updates = key_updates(app)
    assert client.get("/api/v1/identity-flags", headers=auth).status_code == 200
    first = last_used(app, key_id)
    assert first is not None and len(updates) == 1
    for _ in range(3):
        assert client.get("/api/v1/identity-flags", headers=auth).status_code == 200
    assert len(updates) == 1 and last_used(app, key_id) == first

    shown = row.search(admin.get("/console/api-keys").text).group(0)
    assert f"<td>{first:%Y-%m-%d %H:%M}</td>" in shown and "never" not in shown
    assert "within 60 seconds" in admin.get("/console/api-keys").text

    other_id, other = make_key(app, "reader")  # the note is per key
    assert client.get("/api/v1/identity-flags", headers=other).status_code == 200
    assert len(updates) == 2 and last_used(app, other_id) is not None


def test_past_the_resolution_each_use_is_written_again(app, client):
    app.config["KEY_LAST_USED_RESOLUTION"] = 0
    key_id, auth = make_key(app)
    updates = key_updates(app)
    for _ in range(3):
        assert client.get("/api/v1/identity-flags", headers=auth).status_code == 200
    assert len(updates) == 3 and last_used(app, key_id) is not None


def test_refused_keys_write_nothing(app, client):
    key_id, _ = make_key(app)
    updates = key_updates(app)
    wrong = {"Authorization": f"Bearer {key_id}.not-the-secret"}
    assert client.get("/api/v1/identity-flags", headers=wrong).status_code == 401
    assert updates == [] and last_used(app, key_id) is None


def test_a_failed_write_is_logged_without_the_token_and_the_request_goes_on(app, client, caplog):
    app.config["KEY_LAST_USED_RESOLUTION"] = 0
    key_id, auth = make_key(app)
    token = auth["Authorization"].removeprefix("Bearer ")
    with app.app_context():
        engine = db.engine

    def refuse(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("UPDATE API_KEY"):
            raise sa.exc.OperationalError(statement, {}, Exception("database is away"))

    sa.event.listen(engine, "before_cursor_execute", refuse)
    try:
        with caplog.at_level(logging.WARNING, logger="loyalty_social.access.service"):
            answer = client.get("/api/v1/identity-flags", headers=auth)
    finally:
        sa.event.remove(engine, "before_cursor_execute", refuse)
    assert answer.status_code == 200 and answer.json == {"items": []}
    assert f"could not record the last use of API key {key_id}" in caplog.text
    assert token.split(".")[1] not in caplog.text
    assert last_used(app, key_id) is None


def test_the_cli_lists_when_each_key_was_last_used(app, client, stack_config):
    key_id, auth = make_key(app)
    before = run_cli(stack_config, "apikey", "list")
    assert f"{key_id}  crm  marketer  active  last used never" in before.stdout, before.stderr
    client.get("/api/v1/identity-flags", headers=auth)
    after = run_cli(stack_config, "apikey", "list").stdout
    assert (
        f"{key_id}  crm  marketer  active  last used {last_used(app, key_id):%Y-%m-%d %H:%M}"
        in after
    )


def test_revision_0023_adds_and_removes_last_used_at(fresh_config, make_app):
    migrated = make_app(fresh_config)
    with migrated.app_context():
        assert drift_in({"api_key"}) == []

        def columns():
            return {c["name"] for c in sa.inspect(db.engine).get_columns("api_key")}

        assert "last_used_at" in columns()
        downgrade(revision="0022_identity_flag_review")
        assert "last_used_at" not in columns() and "revoked_at" in columns()
        upgrade()
        assert "last_used_at" in columns()
        db.engine.dispose()
