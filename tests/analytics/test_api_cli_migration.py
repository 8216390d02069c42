"""The analytics API (read scope), the rebuild command, and the rollups' migration."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from loyalty_social import create_app
from loyalty_social.analytics.models import DailyRollup
from loyalty_social.extensions import db

from ..conftest import make_config, run_cli
from ..identity.test_migration import tables
from ..rules.conftest import auth, make_rule, send, share

TABLES = {"rollup_daily", "rollup_member", "budget_alert"}


def test_series_funnel_consent_and_advocates(rapp):
    rule_id = make_rule(
        rapp, event_types=["social.shared"], rewards=[{"kind": "fixed", "points": 4}]
    )
    send(rapp, "social.shared", "M-1", share(network="x"))
    client = rapp.test_client()
    got = client.get("/api/v1/analytics/series?chart=points-by-rule", headers=auth(rapp))
    assert got.status_code == 200
    [row] = got.json["rows"]
    assert (row["key"], row["count"], row["amount"]) == (rule_id, 1, 4)
    wrong = client.get("/api/v1/analytics/series?chart=nope", headers=auth(rapp))
    assert wrong.status_code == 422 and wrong.content_type == "application/problem+json"
    bad_day = client.get("/api/v1/analytics/funnel?since=2026-13-40", headers=auth(rapp))
    assert bad_day.status_code == 422
    funnel = client.get("/api/v1/analytics/funnel", headers=auth(rapp)).json
    assert [s["step"] for s in funnel["steps"]] == [
        "advocates.share",
        "advocates.click",
        "advocates.signup",
    ]
    # Nobody consented to social activity use: nobody is shown.
    assert client.get("/api/v1/analytics/advocates", headers=auth(rapp)).json == {"items": []}
    assert client.get("/api/v1/analytics/consent").status_code == 401


def test_rebuild_command_recomputes_lost_rollups(rapp, sqlite_config):
    make_rule(rapp, event_types=["social.shared"], rewards=[{"kind": "fixed", "points": 4}])
    send(rapp, "social.shared", "M-1", share(network="x"))
    with rapp.app_context():
        db.session.execute(sa.delete(DailyRollup))
        db.session.commit()
        db.session.remove()
    done = run_cli(sqlite_config, "analytics", "rebuild")
    assert done.returncode == 0, done.stderr
    assert "rewards:" in done.stdout and "events:" in done.stdout
    with rapp.app_context():
        metrics = set(db.session.scalars(sa.select(DailyRollup.metric)))
        db.session.remove()
    assert metrics == {"points", "points.network", "events"}


def test_upgrade_downgrade_upgrade(empty_database):
    app = create_app(make_config(empty_database))
    with app.app_context():
        upgrade()
        assert tables() >= TABLES
        downgrade(revision="0013_advocate_scores")
        assert not TABLES & tables()
        upgrade()
        assert tables() >= TABLES
        db.engine.dispose()
