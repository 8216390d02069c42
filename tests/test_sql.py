"""The shared bulk-insert path (``sql.insert_rows``): the same rows and types on PostgreSQL
(one JSON parameter) and SQLite (executemany), duplicates ignored, naive times refused."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import StatementError

from loyalty_social.extensions import db
from loyalty_social.identity.models import Member
from loyalty_social.sql import insert_ignoring_duplicates

T = datetime(2026, 11, 24, 1, 2, 3, 456789, tzinfo=UTC)


def member(member_id, at=T, **attributes):
    return {
        "id": member_id,
        "tier": None,
        "attributes": attributes,
        "created_at": at,
        "updated_at": at,
    }


def test_rows_round_trip_and_only_new_keys_are_returned(stack_config, make_app):
    app = make_app(stack_config)
    berlin = datetime(2026, 11, 24, 2, 2, 3, 456789).astimezone()  # any aware time
    with app.app_context():
        table, connection = Member.__table__, db.session.connection()
        first = insert_ignoring_duplicates(
            connection,
            table,
            [member("A", segment=3, tags=["x", "ü"]), member("B", at=berlin)],
            ["id"],
        )
        again = insert_ignoring_duplicates(
            connection, table, [member("B", segment=9), member("C")], ["id"]
        )
        db.session.commit()
        assert sorted(first) == [("A",), ("B",)]
        assert again == [("C",)]
        a, b = db.session.get(Member, "A"), db.session.get(Member, "B")
        assert a.attributes == {"segment": 3, "tags": ["x", "ü"]}
        assert a.created_at == T and a.created_at.utcoffset() == timedelta(0)
        assert b.attributes == {} and b.created_at == berlin
        assert b.tier is None


def test_a_naive_time_is_refused_and_nothing_is_written(stack_config, make_app):
    app = make_app(stack_config)
    with app.app_context():
        with pytest.raises((ValueError, StatementError), match="naive datetime"):
            insert_ignoring_duplicates(
                db.session.connection(),
                Member.__table__,
                [member("N", at=datetime(2026, 11, 24, 1, 0))],
                ["id"],
            )
        db.session.rollback()
        assert db.session.get(Member, "N") is None
