"""The audit log: every change through the API or the CLI leaves who, when, what, before and
after, in the same transaction as the change, and never a credential."""

from __future__ import annotations

import json

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from loyalty_social import create_app
from loyalty_social.access.service import create_key
from loyalty_social.extensions import db

from .conftest import make_config, run_cli

RULE = {
    "name": "shares pay",
    "event_types": ["social.shared"],
    "rewards": [{"kind": "fixed", "points": 10}],
}


def keys(app) -> dict:
    with app.app_context():
        marketer = create_key("campaign-team", ["marketer"])
        admin = create_key("security-team", ["admin"])
    return {
        "marketer": {"Authorization": f"Bearer {marketer}"},
        "admin": {"Authorization": f"Bearer {admin}"},
    }


def audit(client, auth, **query):
    response = client.get("/api/v1/audit", query_string=query, headers=auth)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_rule_changes_are_logged_with_actor_and_before_after(app, client):
    auth = keys(app)
    created = client.post("/api/v1/rules", json=RULE, headers=auth["marketer"])
    assert created.status_code == 201, created.get_json()
    rule_id = created.get_json()["id"]
    activated = client.post(
        f"/api/v1/rules/{rule_id}/status", json={"status": "active"}, headers=auth["marketer"]
    )
    assert activated.status_code == 200, activated.get_json()

    page = audit(client, auth["admin"], target_kind="rule", target_id=rule_id)
    actions = [item["action"] for item in page["items"]]
    assert actions == ["rule.activated", "rule.created"]  # newest first
    newest, first = page["items"]
    assert {newest["actor"], first["actor"]} == {"key:campaign-team"}
    assert first["before"] is None and first["after"]["status"] == "draft"
    assert newest["before"]["status"] == "draft" and newest["after"]["status"] == "active"
    assert newest["after"]["rewards"] == RULE["rewards"]

    # A refused change (archived -> active is not a transition) leaves no row.
    client.post(
        f"/api/v1/rules/{rule_id}/status", json={"status": "archived"}, headers=auth["marketer"]
    )
    refused = client.post(
        f"/api/v1/rules/{rule_id}/status", json={"status": "active"}, headers=auth["marketer"]
    )
    assert refused.status_code == 409
    actions = [i["action"] for i in audit(client, auth["admin"], action="rule.")["items"]]
    assert actions == ["rule.archived", "rule.activated", "rule.created"]


def test_only_admins_read_it_and_pages_follow_on(app, client):
    auth = keys(app)
    assert client.get("/api/v1/audit", headers=auth["marketer"]).status_code == 403
    assert client.get("/api/v1/audit").status_code == 401
    for n in range(5):
        body = {**RULE, "name": f"rule {n}"}
        assert client.post("/api/v1/rules", json=body, headers=auth["marketer"]).status_code == 201
    seen, after = [], None
    while True:
        query = {"action": "rule.created", "limit": 2} | ({"after": after} if after else {})
        page = audit(client, auth["admin"], **query)
        seen += [item["after"]["name"] for item in page["items"]]
        after = page["next_after"]
        if after is None:
            break
    assert seen == [f"rule {n}" for n in reversed(range(5))]
    bad = client.get("/api/v1/audit", query_string={"limit": 10**9}, headers=auth["admin"])
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"


def test_cli_changes_name_the_operator_and_keep_no_secret(sqlite_config):
    assert run_cli(sqlite_config, "db", "upgrade").returncode == 0
    added = run_cli(sqlite_config, "source", "add", "crm")
    assert added.returncode == 0, added.stderr
    rotated = run_cli(sqlite_config, "source", "rotate", "crm")
    assert rotated.returncode == 0, rotated.stderr
    secrets = [line for line in (added.stdout + rotated.stdout).split() if "whsec_" in line]
    assert secrets, added.stdout + rotated.stdout

    app = create_app(sqlite_config)
    with app.app_context():
        rows = db.session.execute(
            sa.text("SELECT actor, action, before, after FROM audit_record ORDER BY id")
        ).all()
        db.engine.dispose()
    assert [row.action for row in rows] == ["source.created", "source.secret_rotated"]
    assert all(row.actor.startswith("cli:") for row in rows)
    stored = json.dumps([tuple(row) for row in rows])
    for secret in secrets:
        assert secret.removeprefix("whsec_") not in stored


def test_migration_upgrades_and_downgrades(empty_database):
    app = create_app(make_config(empty_database))
    with app.app_context():
        upgrade(revision="0010_audit")
        assert "audit_record" in sa.inspect(db.engine).get_table_names()
        downgrade(revision="0009_portal_sessions")
        assert "audit_record" not in sa.inspect(db.engine).get_table_names()
        upgrade(revision="0010_audit")
        db.engine.dispose()


def test_snapshots_never_hold_credentials_but_keep_counts():
    from loyalty_social.audit.service import REDACTED, redact

    snapshot = {
        "secret": "whsec_abc",
        "nested": {"access_token": "ya29.x", "name": "crm"},
        "keys": [{"password": "hunter2", "role": "admin"}],
        "tokens_revoked": 2,
        "token_expires": None,
    }
    assert redact(snapshot) == {
        "secret": REDACTED,
        "nested": {"access_token": REDACTED, "name": "crm"},
        "keys": [{"password": REDACTED, "role": "admin"}],
        "tokens_revoked": 2,
        "token_expires": None,
    }
