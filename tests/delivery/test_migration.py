"""The delivery revision upgrades and downgrades on both databases, and matches the models."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade

from ..helpers import drift_in, tables_present

TABLES = {"subscription", "delivery", "delivery_attempt"}


def test_revision_downgrades_and_upgrades_and_matches_the_models(fresh_config, make_app):
    app = make_app(fresh_config)
    with app.app_context():
        assert tables_present(TABLES) == TABLES
        assert drift_in(TABLES) == []
        downgrade(revision="0002_identity")
        assert tables_present(TABLES) == set()
        upgrade()
        assert tables_present(TABLES) == TABLES
