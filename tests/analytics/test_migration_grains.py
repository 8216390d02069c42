"""Revision 0021_rollup_grains: the monthly and daily-total grains, filled from the daily rows
already there; upgrades and downgrades on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from loyalty_social import create_app
from loyalty_social.extensions import db

from ..conftest import make_config
from ..helpers import drift_in, tables_present

BEFORE = "0020_event_type_index"
AFTER = "0021_rollup_grains"
TABLES = {"rollup_monthly", "rollup_daily_total"}
ROWS = [
    ("points", "2026-01-31", "rul_a", "", 1, 10),
    ("points", "2026-02-01", "rul_a", "", 2, 20),
    ("points", "2026-02-28", "rul_a", "", 3, 30),
    ("points", "2026-02-28", "rul_b", "", 4, 40),
    ("events", "2026-02-28", "social.shared", "backend", 5, 0),
]


def test_upgrade_sums_existing_rows_and_downgrades(empty_database):
    app = create_app(make_config(empty_database))
    with app.app_context():
        upgrade(revision=BEFORE)
        for metric, day, key, key2, count, amount in ROWS:
            db.session.execute(
                sa.text(
                    "INSERT INTO rollup_daily (metric, day, key, key2, count, amount)"
                    " VALUES (:m, :d, :k, :k2, :c, :a)"
                ),
                {"m": metric, "d": day, "k": key, "k2": key2, "c": count, "a": amount},
            )
        db.session.commit()
        upgrade(revision=AFTER)
        assert tables_present(TABLES) == TABLES
        assert drift_in(TABLES | {"rollup_daily"}) == []
        monthly = db.session.execute(
            sa.text(
                "SELECT metric, month, key, key2, count, amount FROM rollup_monthly"
                " ORDER BY metric, month, key"
            )
        )
        assert [(m, str(d), k, k2, c, a) for m, d, k, k2, c, a in monthly] == [
            ("events", "2026-02-01", "social.shared", "backend", 5, 0),
            ("points", "2026-01-01", "rul_a", "", 1, 10),
            ("points", "2026-02-01", "rul_a", "", 5, 50),
            ("points", "2026-02-01", "rul_b", "", 4, 40),
        ]
        totals = db.session.execute(
            sa.text("SELECT metric, day, count, amount FROM rollup_daily_total ORDER BY 1, 2")
        )
        assert [(m, str(d), c, a) for m, d, c, a in totals] == [
            ("events", "2026-02-28", 5, 0),
            ("points", "2026-01-31", 1, 10),
            ("points", "2026-02-01", 2, 20),
            ("points", "2026-02-28", 7, 70),
        ]
        db.session.commit()
        downgrade(revision=BEFORE)
        assert tables_present(TABLES) == set()
        assert db.session.execute(sa.text("SELECT count(*) FROM rollup_daily")).scalar() == 5
        db.session.commit()
        upgrade()
        assert tables_present(TABLES) == TABLES
        db.engine.dispose()
