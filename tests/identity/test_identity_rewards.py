"""social.linked pays once per social identity, ever, across all members: moving an identity
to another member pays nothing there and is flagged; only a keyed hash of it outlives an
unlink (real OIDC provider process; PostgreSQL and SQLite)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from loyalty_social import create_app
from loyalty_social.crypto import identity_hash
from loyalty_social.extensions import db
from loyalty_social.intake.models import ActivityEvent

from ..conftest import make_config
from ..helpers import seed
from .conftest import Browser
from .test_linking import linked_events, linked_rows, points
from .test_migration import tables
from .test_signin import flags

# The revision before 0008_identity_rewards.
PREVIOUS = "0007_consent_policies"


def sub() -> str:
    return f"farm-{uuid.uuid4().hex[:10]}"


def reward_rows(app) -> list[tuple]:
    with app.app_context():
        return db.session.execute(
            sa.text("SELECT identity_hash, member_id FROM identity_reward ORDER BY member_id")
        ).all()


def test_an_identity_moved_to_another_member_pays_nothing_and_is_flagged(id_app, oidc_provider):
    seed(id_app, rules=(("social.linked", 100),))
    subject = sub()
    alice = Browser(id_app, oidc_provider)
    alice.arrive("M-farm-a")
    alice.link(subject)
    assert points(id_app, "M-farm-a") == 100
    assert alice.unlink().status_code == 303  # no consent to keep history: the row goes
    assert linked_rows(id_app, "M-farm-a") == []
    # The event that paid keeps only the keyed hash of the identity.
    with id_app.app_context():
        [data] = db.session.scalars(
            sa.select(ActivityEvent.data).where(
                ActivityEvent.type == "social.linked", ActivityEvent.member_id == "M-farm-a"
            )
        ).all()
        assert data == {"provider": "mock", "subject": "hmac:" + identity_hash("mock", subject)}

    bob = Browser(id_app, oidc_provider)
    bob.arrive("M-farm-b")
    assert bob.link(subject).status_code == 303
    assert "earns nothing" in bob.page().text
    assert linked_rows(id_app, "M-farm-b") == [("mock", subject, "linked", None)]
    assert linked_events(id_app, "M-farm-b") == []
    assert points(id_app, "M-farm-b") == 0
    [flag] = flags(id_app)
    assert flag["kind"] == "repeat_link" and flag["subject"] == subject
    assert flag["member_ids"] == ["M-farm-a", "M-farm-b"]

    # Back and forth again: still nothing, and no second flag for the same move.
    bob.unlink()
    bob.link(subject)
    assert points(id_app, "M-farm-b") == 0 and len(flags(id_app)) == 1
    # The first member relinking it is no move: nothing new to pay, nothing to flag.
    bob.unlink()
    alice.link(subject)
    assert points(id_app, "M-farm-a") == 100 and len(flags(id_app)) == 1
    # What is kept: a keyed hash, never the identity itself.
    with id_app.app_context():
        expected = identity_hash("mock", subject)
    assert reward_rows(id_app) == [(expected, "M-farm-a")]
    assert subject not in expected and len(expected) == 64

    # Another identity still pays its first member.
    carol = Browser(id_app, oidc_provider)
    carol.arrive("M-farm-c")
    carol.link(sub())
    assert points(id_app, "M-farm-c") == 100


def test_the_migration_remembers_identities_linked_before_it(empty_database):
    app = create_app(make_config(empty_database))
    with app.app_context():
        upgrade(revision=PREVIOUS)
        now = "2026-11-20 09:30:00"
        db.session.execute(
            sa.text(
                "INSERT INTO source (name, max_evidence, enabled, created_at) "
                "VALUES ('internal', 'confirmed', false, :now)"
            ),
            {"now": now},
        )
        db.session.execute(
            sa.text(
                "INSERT INTO activity_event (id, source_name, webhook_id, type, type_version, "
                "member_id, occurred_at, received_at, evidence, evidence_claimed, data, "
                "body_sha256, status, attempts) VALUES ('evt_1', 'internal', 'linked:M-old:mock', "
                "'social.linked', 1, 'M-old', :now, :now, 'verified', 'verified', "
                '\'{"provider": "mock", "subject": "S-old"}\', :sha, \'processed\', 1)'
            ),
            {"now": now, "sha": "0" * 64},
        )
        db.session.commit()
        upgrade()
        kept = db.session.execute(
            sa.text("SELECT identity_hash, member_id FROM identity_reward")
        ).all()
        assert kept == [(identity_hash("mock", "S-old"), "M-old")]
        db.session.remove()  # no open transaction may hold the table the downgrade drops
        downgrade(revision=PREVIOUS)
        assert "identity_reward" not in tables()
        upgrade()
        assert "identity_reward" in tables()
        db.engine.dispose()
