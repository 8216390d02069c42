"""Revisions 0013_advocate_scores and 0016_timeline_indexes upgrade and downgrade on SQLite and
PostgreSQL, and what they make is the models' (no drift)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from loyalty_social import create_app
from loyalty_social.extensions import db

from ..conftest import make_config
from ..identity.test_migration import tables

REVISION = "0013_advocate_scores"
TABLES = {"advocate_signal", "advocate_score"}


def _mentions(diff) -> bool:
    return any(name in repr(diff) for name in TABLES)


def test_upgrade_downgrade_upgrade(empty_database):
    app = create_app(make_config(empty_database))
    with app.app_context():
        upgrade(revision=REVISION)
        assert tables() >= TABLES
        with db.engine.connect() as connection:
            drift = compare_metadata(MigrationContext.configure(connection), db.metadata)
        assert [diff for diff in drift if _mentions(diff)] == []
        primary = sa.inspect(db.engine).get_pk_constraint("advocate_signal")
        assert primary["constrained_columns"] == ["member_id", "day", "kind"]
        downgrade(revision="0012_advocates_links")
        assert not TABLES & tables() and "share_link" in tables()
        upgrade()
        assert tables() >= TABLES
        db.engine.dispose()


def test_timeline_index_upgrades_and_downgrades(empty_database):
    """0016_timeline_indexes: the member's awards by (member_id, created_at)."""
    app = create_app(make_config(empty_database))
    with app.app_context():
        upgrade()
        indexes = {i["name"]: i for i in sa.inspect(db.engine).get_indexes("award")}
        assert indexes["ix_award_member_created"]["column_names"] == ["member_id", "created_at"]
        with db.engine.connect() as connection:
            drift = compare_metadata(MigrationContext.configure(connection), db.metadata)
        assert [d for d in drift if "ix_award_member_created" in repr(d)] == []
        downgrade(revision="0015_analytics_rollups")
        names = {i["name"] for i in sa.inspect(db.engine).get_indexes("award")}
        assert "ix_award_member_created" not in names
        upgrade()
        db.engine.dispose()
