"""Revision 0007_consent_policies keeps existing consents (as policy version 1) and downgrades."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from loyalty_social import create_app
from loyalty_social.consent import service
from loyalty_social.extensions import db

from ..conftest import make_config

BEFORE = "0006_source_public_keys"


def test_existing_consents_survive_upgrade_and_downgrade(empty_database):
    app = create_app(make_config(empty_database))
    with app.app_context():
        upgrade(revision=BEFORE)
        db.session.execute(
            sa.text(
                "INSERT INTO consent_record"
                " (member_id, purpose, granted, source, actor, updated_at) VALUES"
                " ('M-old', 'targeted_rewards', true, 'backend', 'crm', '2026-01-02 03:04:05+00')"
            )
        )
        db.session.execute(
            sa.text(
                "INSERT INTO consent_event (id, member_id, purpose, action, source, actor, at)"
                " VALUES ('cev_old', 'M-old', 'targeted_rewards', 'granted', 'backend', 'crm',"
                " '2026-01-02 03:04:05+00')"
            )
        )
        db.session.commit()
        upgrade()
        assert "consent_policy" in sa.inspect(db.engine).get_table_names()
        assert service.has_consent("M-old", "targeted_rewards") is not None
        [event] = service.history("M-old")
        assert (event.id, event.action, event.actor, event.policy_version) == (
            "cev_old",
            "granted",
            "crm",
            1,
        )
        db.session.commit()
        downgrade(revision=BEFORE)
        assert "consent_policy" not in sa.inspect(db.engine).get_table_names()
        rows = db.session.execute(sa.text("SELECT member_id, granted FROM consent_record")).all()
        assert [(m, bool(g)) for m, g in rows] == [("M-old", True)]
        assert db.session.execute(sa.text("SELECT count(*) FROM consent_event")).scalar() == 1
        db.session.commit()
        upgrade()
        db.engine.dispose()
