"""Revisions 0017_console (console users and sessions), 0018_rule_reviews (maker-checker) and
0020_event_type_index (the preview's event picker) upgrade and downgrade on SQLite and
PostgreSQL, and match the models."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from loyalty_social.extensions import db

from ..helpers import drift_in, tables_present

TABLES = {"console_user", "console_session", "rule_review"}
REVISION = "0017_console"


def test_revision_downgrades_and_upgrades_and_matches_the_models(fresh_config, make_app):
    app = make_app(fresh_config)
    with app.app_context():
        assert tables_present(TABLES) == TABLES
        assert drift_in(TABLES) == []
        previous = _previous()
        downgrade(revision=previous)
        assert tables_present(TABLES) == set()
        upgrade()
        assert tables_present(TABLES) == TABLES
        # the role is checked by the database too
        with db.engine.connect() as connection, pytest.raises(sa.exc.IntegrityError):
            connection.exec_driver_sql(
                "INSERT INTO console_user (id, email, role, created_at) "
                "VALUES ('usr_x', 'x@example.test', 'owner', CURRENT_TIMESTAMP)"
            )


def _previous() -> str:
    from alembic.script import ScriptDirectory

    from ..conftest import ROOT

    script = ScriptDirectory(str(ROOT / "migrations"))
    return script.get_revision(REVISION).down_revision


def test_event_type_index_upgrades_and_downgrades(fresh_config, make_app):
    """0020_event_type_index: the preview picker's "events of a type, newest first" by
    (type, id), the filter and order of list_events(type=...)."""
    app = make_app(fresh_config)
    with app.app_context():
        indexes = {i["name"]: i for i in sa.inspect(db.engine).get_indexes("activity_event")}
        assert indexes["ix_activity_event_type_id"]["column_names"] == ["type", "id"]
        assert drift_in({"activity_event"}) == []
        downgrade(revision="0019_privacy")
        names = {i["name"] for i in sa.inspect(db.engine).get_indexes("activity_event")}
        assert "ix_activity_event_type_id" not in names
        upgrade()
        names = {i["name"] for i in sa.inspect(db.engine).get_indexes("activity_event")}
        assert "ix_activity_event_type_id" in names
