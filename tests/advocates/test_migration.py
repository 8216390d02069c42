"""Revision 0012_advocates_links upgrades and downgrades on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from loyalty_social import create_app
from loyalty_social.extensions import db

from ..conftest import make_config
from ..identity.test_migration import tables

REVISION = "0012_advocates_links"
TABLES = {"share_link", "share_click", "referral", "referral_flag"}


def test_upgrade_downgrade_upgrade(empty_database):
    app = create_app(make_config(empty_database))
    with app.app_context():
        upgrade(revision=REVISION)
        assert tables() >= TABLES
        indexes = {i["name"]: i for i in sa.inspect(db.engine).get_indexes("share_click")}
        assert indexes["uq_share_click_counted_visitor"]["unique"]
        links = {i["name"]: i for i in sa.inspect(db.engine).get_indexes("share_link")}
        assert links["uq_share_link_member_target"]["column_names"] == ["member_id", "target_hash"]
        downgrade(revision="-1")
        assert not TABLES & tables() and "member" in tables()
        upgrade()
        assert tables() >= TABLES
        db.engine.dispose()
