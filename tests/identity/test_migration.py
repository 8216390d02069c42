"""Revision 0002_identity upgrades and downgrades on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from loyalty_social import create_app
from loyalty_social.extensions import db

from ..conftest import make_config

TABLES = {
    "social_account",
    "member_sign_in",
    "oauth_flow",
    "used_assertion",
    "signup_ticket",
    "identity_flag",
    "consent_record",
    "consent_event",
}


def tables() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


def test_upgrade_downgrade_upgrade(empty_database):
    app = create_app(make_config(empty_database))
    with app.app_context():
        upgrade(revision="0002_identity")
        assert tables() >= TABLES
        indexes = {i["name"]: i for i in sa.inspect(db.engine).get_indexes("social_account")}
        assert indexes["uq_social_account_linked_identity"]["unique"]
        downgrade(revision="0001_skeleton")
        assert not TABLES & tables() and "member" in tables()
        upgrade()
        assert tables() >= TABLES
        db.engine.dispose()
