"""The delivery revision upgrades and downgrades on both databases, and matches the models."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from loyalty_social.extensions import db

TABLES = {"subscription", "delivery", "delivery_attempt"}


def test_revision_downgrades_and_upgrades_and_matches_the_models(fresh_config, make_app):
    app = make_app(fresh_config)
    with app.app_context():
        assert _tables() == TABLES
        with db.engine.connect() as connection:
            drift = compare_metadata(MigrationContext.configure(connection), db.metadata)
        assert [diff for diff in drift if _mentions(diff)] == []
        downgrade(revision="0002_identity")
        assert _tables() == set()
        upgrade()
        assert _tables() == TABLES


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
