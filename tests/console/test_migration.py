"""Revisions 0017_console (console users and sessions) and 0018_rule_reviews (maker-checker)
upgrade and downgrade on SQLite and PostgreSQL, and match the models."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from loyalty_social.extensions import db

TABLES = {"console_user", "console_session", "rule_review"}
REVISION = "0017_console"


def test_revision_downgrades_and_upgrades_and_matches_the_models(fresh_config, make_app):
    app = make_app(fresh_config)
    with app.app_context():
        assert _tables() == TABLES
        with db.engine.connect() as connection:
            drift = compare_metadata(MigrationContext.configure(connection), db.metadata)
        assert [diff for diff in drift if _mentions(diff)] == []
        previous = _previous()
        downgrade(revision=previous)
        assert _tables() == set()
        upgrade()
        assert _tables() == TABLES
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


def _tables() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names()) & TABLES


def _mentions(diff) -> bool:
    """Does an autogenerate diff (a tuple, or a list of them) touch one of our tables?"""
    if isinstance(diff, list):
        return any(_mentions(item) for item in diff)
    for part in diff:
        name = part if isinstance(part, str) else getattr(part, "name", None)
        table = getattr(part, "table", None)
        if name in TABLES or getattr(table, "name", None) in TABLES:
            return True
    return False
