"""The marketer API and CLI: saving with pointed errors, preview, backtest (job and CLI)."""

import json
from datetime import timedelta

from ..conftest import run_cli
from ..helpers import wait_until
from .conftest import T0, auth, make_rule, review, send, store

DOC = {
    "name": "Long reviews",
    "event_types": ["review.published"],
    "conditions": {
        "all": [
            {"field": "data.text_length", "op": "ge", "value": 100},
            {"field": "member.tier", "op": "in", "value": ["gold", "silver"]},
        ]
    },
    "rewards": [{"kind": "fixed", "points": 25}],
    "limits": {"per_member": [{"period": "day", "count": 1}]},
}


def test_marketer_scope_is_required(rapp):
    from loyalty_social.access.service import create_key

    with rapp.app_context():
        reader = create_key("reader", ["read"])
    response = rapp.test_client().get(
        "/api/v1/rules", headers={"Authorization": f"Bearer {reader}"}
    )
    assert response.status_code == 403


def test_invalid_rule_is_422_pointing_at_the_clause(rapp):
    bad = {
        **DOC,
        "conditions": {
            "all": [
                DOC["conditions"]["all"][0],
                {"field": "member.tier", "op": "in", "value": "gold"},
            ]
        },
    }
    response = rapp.test_client().post("/api/v1/rules", json=bad, headers=auth(rapp))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert list(response.json["errors"]["json"]) == ["/conditions/all/1/value"]


def test_preview_explains_every_clause_without_paying(rapp):
    client = rapp.test_client()
    body = {
        "rule": DOC,
        "member_id": "M-1",
        "event": {
            "type": "review.published",
            "data": review(text_length=150),
            "evidence": "verified",
        },
    }
    response = client.post("/api/v1/previews", json=body, headers=auth(rapp))
    assert response.status_code == 200, response.json
    result = response.json
    assert (result["result"], result["code"]) == ("skipped", "condition")
    clauses = result["conditions"]["children"]
    assert [c["result"] for c in clauses] == [True, False]
    assert clauses[0]["actual"] == 150 and clauses[1]["actual"] is None
    send(rapp, "member.updated", data={"tier": "gold"})
    again = client.post("/api/v1/previews", json=body, headers=auth(rapp)).json
    assert (again["result"], again["points"]) == ("paid", 25)
    saved = client.post("/api/v1/rules", json={**DOC, "status": "active"}, headers=auth(rapp))
    assert saved.status_code == 201
    send(rapp, "review.published", data=review("x"))
    by_id = client.post(
        f"/api/v1/rules/{saved.json['id']}/preview",
        headers=auth(rapp),
        json={
            "member_id": "M-1",
            "event": {**body["event"], "occurred_at": "2026-11-20T12:00:00Z"},
        },
    ).json
    assert by_id["code"] == "limit" and by_id["frees_at"]
    wrong = client.post(
        "/api/v1/previews",
        headers=auth(rapp),
        json={**body, "event": {"type": "social.shared", "data": {}}},
    )
    assert wrong.status_code == 200 and wrong.json["code"] == "not_listening"


def _history(app):
    """Ten days of reviews by three members, processed by a plain rule."""
    make_rule(app, name="base", rewards=[{"kind": "fixed", "points": 1}])
    ids = []
    for day in range(10):
        for member in ("M-1", "M-2", "M-3"):
            ids.append(
                store(
                    app,
                    "review.published",
                    member,
                    review(f"{member}-{day}", text_length=50 * day),
                    at=T0 + timedelta(days=day),
                )
            )
    from .conftest import process

    process(app, *ids)


def test_backtest_through_the_api_runs_as_a_job(rapp):
    _history(rapp)
    client = rapp.test_client()
    draft = client.post(
        "/api/v1/rules",
        json=DOC | {"conditions": {"field": "data.text_length", "op": "ge", "value": 200}},
        headers=auth(rapp),
    ).json
    started = client.post(
        f"/api/v1/rules/{draft['id']}/backtests",
        json={"since": "2026-11-01T00:00:00Z"},
        headers=auth(rapp),
    )
    assert started.status_code == 202

    def finished():  # the embedded default runs batch jobs on a background thread
        state = client.get(f"/api/v1/backtests/{started.json['id']}", headers=auth(rapp)).json
        return state if state["status"] not in ("queued", "running") else None

    done = wait_until(finished, 60)
    assert done["status"] == "done", done
    report = done["report"]
    assert report["totals"] == {"events": 30, "members": 3, "awards": 18, "held": 0, "points": 450}
    assert report["days"][0] == {
        "date": "2026-11-24",
        "members": 3,
        "awards": 3,
        "held": 0,
        "points": 75,
    }
    assert report["not_paid"] == {"condition": 12}


def test_cli_add_and_backtest_with_a_progress_bar(rapp, sqlite_config, tmp_path):
    result = run_cli(
        sqlite_config,
        "rule",
        "add",
        "--name",
        "shares",
        "--event-type",
        "social.shared",
        "--points",
        "3",
    )
    assert result.returncode == 0, result.stderr
    rule_id = result.stdout.strip()
    _history(rapp)
    changed = {**DOC, "conditions": None, "limits": {}, "event_types": ["review.published"]}
    path = tmp_path / "changed.json"
    path.write_text(json.dumps(changed))
    result = run_cli(
        sqlite_config,
        "rule",
        "backtest",
        rule_id,
        "--since",
        "2026-11-01",
        "--file",
        str(path),
        "--json",
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["totals"]["awards"] == 30 and report["totals"]["points"] == 750
    assert "events" in result.stderr  # the progress bar
    listed = run_cli(sqlite_config, "rule", "list")
    assert rule_id in listed.stdout
    invalid = run_cli(
        sqlite_config, "rule", "add", "--name", "x", "--event-type", "nope", "--points", "1"
    )
    assert invalid.returncode != 0 and "unknown event type" in invalid.stderr


def test_the_documented_examples_are_accepted(rapp):
    """What /api/docs shows a marketer works as shown."""
    from loyalty_social.rules import examples

    client, headers = rapp.test_client(), auth(rapp)
    response = client.post("/api/v1/campaigns", json=examples.CAMPAIGN, headers=headers)
    assert response.status_code == 201, response.json
    created = client.post("/api/v1/rules", json=examples.RULE_CREATE, headers=headers)
    assert created.status_code == 201, created.json
    rule_id = created.json["id"]
    assert created.json["conditions"] == examples.RULE["conditions"]
    for method, path, body, status in (
        ("put", f"/api/v1/rules/{rule_id}", examples.RULE_UPDATE, 200),
        ("post", f"/api/v1/rules/{rule_id}/status", examples.STATUS_CHANGE, 200),
        ("post", "/api/v1/previews", examples.PREVIEW, 200),
        ("post", f"/api/v1/rules/{rule_id}/preview", examples.SAMPLE, 200),
        ("post", f"/api/v1/rules/{rule_id}/backtests", examples.BACKTEST, 202),
    ):
        response = getattr(client, method)(path, json=body, headers=headers)
        assert response.status_code == status, (path, response.json)
    preview = client.post("/api/v1/previews", json=examples.PREVIEW, headers=headers).json
    assert preview["result"] == "paid"
