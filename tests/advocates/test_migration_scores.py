"""Revision 0013_advocate_scores upgrades and downgrades on SQLite and PostgreSQL, and the
tables it makes are the models' (no drift)."""

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
