"""One bad event never fails its neighbours: what cannot be stored is refused up front (the same
on PostgreSQL and SQLite), long object keys are stored bounded, and a group commit the
database refuses is retried without the row at fault."""

import json
import uuid
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from loyalty_social.errors import Problem
from loyalty_social.extensions import db
from loyalty_social.intake.committer import StoreResult, pipeline
from loyalty_social.intake.models import ActivityEvent
from loyalty_social.intake.service import build_event_row
from loyalty_social.intake.sources import load_source
from loyalty_social.rewards.models import Award

from .helpers import drain, envelope, seed, signed

PROBLEM = "https://loyalty-social.dev/problems/"


def stored(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ActivityEvent))


def post(client, secret, body):
    raw, headers = signed(secret, body)
    return client.post("/webhooks/backend", data=raw, headers=headers)


def problem(response, status, slug) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.json["type"] == PROBLEM + slug
    return response.json


@pytest.fixture
def seeded(app):
    return seed(app)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (envelope(data={"network": "x", "url": "https://ex.test/a", "note": "a\x00b"}), "note"),
        (envelope(member_id="M-\x00"), "member_id"),
        (envelope(data={"network": "x", "url": "https://ex.test/a", "tags": ["ok", "\x00"]}), 1),
        (envelope(data={"network": "x", "url": "https://ex.test/a", "k\x00": 1}), "k\\x00"),
        (envelope(data={"network": "x", "url": "https://ex.test/a", "d": {"e": "\ud800"}}), "e"),
    ],
    ids=["extra-field", "member-id", "in-a-list", "in-a-key", "lone-surrogate"],
)
def test_text_that_cannot_be_stored_is_422_naming_the_field(client, app, seeded, body, field):
    answer = problem(post(client, seeded["secret"], body), 422, "validation-failed")

    def names(errors) -> set:
        found = set(errors)
        for value in errors.values():
            if isinstance(value, dict):
                found |= names(value)
        return found

    assert str(field) in {str(name) for name in names(answer["errors"])}, answer
    assert stored(app) == 0


def test_nul_in_the_webhook_id_is_422(client, app, seeded):
    raw, headers = signed(seeded["secret"], envelope(), webhook_id="msg_\x00")
    answer = problem(
        client.post("/webhooks/backend", data=raw, headers=headers), 422, "validation-failed"
    )
    assert "webhook-id" in answer["errors"]
    assert stored(app) == 0


def test_long_share_url_is_stored_under_a_bounded_key_and_reverses_alike(client, app, seeded):
    """A 600-character URL is valid (up to 2048) but longer than the 512-character object key:
    the key keeps its start and ends with a hash of the whole, the same for every event about
    the URL, so its award is found again."""
    url = "https://shop.example/p/" + "a" * 577
    first = post(
        client, seeded["secret"], envelope(member_id="M-L", data={"network": "x", "url": url})
    )
    again = post(
        client, seeded["secret"], envelope(member_id="M-L", data={"network": "x", "url": url})
    )
    other = post(
        client, seeded["secret"], envelope(member_id="M-L", data={"network": "x", "url": url + "b"})
    )
    assert [r.status_code for r in (first, again, other)] == [202, 202, 202]
    drain(app)
    with app.app_context():
        keys = [
            db.session.get(ActivityEvent, r.json["id"]).object_key for r in (first, again, other)
        ]
        award_keys = set(db.session.scalars(select(Award.object_key)))
    assert all(len(key) == 512 for key in keys)
    assert keys[0] == keys[1] != keys[2]
    assert keys[0].startswith("share:x:https://shop.example/p/aaa")
    assert keys[0] in award_keys


def test_event_timestamp_beyond_the_tolerance_in_the_future_is_422(client, app, seeded):
    tolerance = app.config["WEBHOOK_TOLERANCE_SECONDS"]

    def at(seconds_ahead):
        when = datetime.now(UTC) + timedelta(seconds=seconds_ahead)
        return envelope(timestamp=when.isoformat())

    answer = problem(post(client, seeded["secret"], at(tolerance + 60)), 422, "validation-failed")
    assert "timestamp" in answer["errors"]
    assert stored(app) == 0
    assert post(client, seeded["secret"], at(tolerance - 60)).status_code == 202
    assert post(client, seeded["secret"], at(-86400)).status_code == 202


@pytest.fixture
def poison(app):
    """A real database rule that refuses one member's events at INSERT, as a stand-in for any
    value the database refuses that validation did not foresee."""
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as connection:
        if postgres:
            connection.exec_driver_sql(
                "CREATE FUNCTION refuse_poison() RETURNS trigger AS $$ BEGIN "
                "IF NEW.member_id = 'M-POISON' THEN RAISE EXCEPTION 'poison' "
                "USING ERRCODE = 'check_violation'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse_poison BEFORE INSERT ON activity_event "
                "FOR EACH ROW EXECUTE FUNCTION refuse_poison()"
            )
        else:
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse_poison BEFORE INSERT ON activity_event "
                "WHEN NEW.member_id = 'M-POISON' BEGIN SELECT RAISE(ABORT, 'poison'); END"
            )
    yield "M-POISON"
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "DROP TRIGGER refuse_poison" + (" ON activity_event" if postgres else "")
        )
        if postgres:
            connection.exec_driver_sql("DROP FUNCTION refuse_poison()")
    engine.dispose()


def test_a_refused_row_fails_alone_and_its_group_is_stored(app, seeded, poison):
    with app.app_context():
        source = load_source("backend")
        rows = [
            build_event_row(
                source,
                f"msg_{uuid.uuid4().hex}",
                json.dumps(envelope(member_id=poison if n in (2, 5) else f"M-{n}")).encode(),
                300,
            )
            for n in range(8)
        ]
    group = [(row, Future()) for row in rows]
    pipeline(app).committer.commit_group(group)

    for n, (row, future) in enumerate(group):
        if n in (2, 5):
            with pytest.raises(Problem) as refused:
                future.result(0)
            assert refused.value.problem_type.slug == "event-not-storable"
            assert refused.value.problem_type.status == 422
        else:
            result = future.result(0)
            assert isinstance(result, StoreResult) and not result.duplicate
            assert result.id == row["id"]
    assert stored(app) == 6
    drain(app)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Award)) == 6


def test_a_refused_event_over_http_is_422_and_stores_nothing(client, app, seeded, poison):
    answer = problem(
        post(client, seeded["secret"], envelope(member_id=poison)), 422, "event-not-storable"
    )
    assert "poison" not in answer.get("detail", "")  # the database's message stays in the logs
    assert post(client, seeded["secret"], envelope(member_id="M-ok")).status_code == 202
    assert stored(app) == 1
