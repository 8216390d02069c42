"""The shared bulk-insert path (``sql.insert_rows``): the same rows and types on PostgreSQL
(one JSON parameter) and SQLite (executemany), duplicates ignored, naive times refused; and
pipelined writes (``sql.pipelined_writes``)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, StatementError

from loyalty_social.extensions import db
from loyalty_social.identity.models import Member
from loyalty_social.rewards.models import Balance
from loyalty_social.sql import insert_ignoring_duplicates, insert_rows, pipelined_writes, run_insert

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


def test_pipelined_writes_land_in_order_and_commit(stack_config, make_app):
    """The batch's trailing writes: sent without waiting, executed in order (the balance's
    foreign key needs the member written just before it)."""
    app = make_app(stack_config)
    with app.app_context():
        connection = db.session.connection()
        with pipelined_writes(connection):
            run_insert(
                connection, insert_rows(connection, Member.__table__, member("P")), [member("P")]
            )
            balance = {"member_id": "P", "points": 7, "debt": 0, "updated_at": T}
            run_insert(connection, insert_rows(connection, Balance.__table__, balance), [balance])
        db.session.commit()
        assert db.session.get(Balance, "P").points == 7


def test_a_failed_pipelined_write_fails_the_block_and_nothing_lands(stack_config, make_app):
    app = make_app(stack_config)
    with app.app_context():
        connection = db.session.connection()
        insert = insert_rows(connection, Member.__table__, member("D"))
        with pytest.raises(IntegrityError), pipelined_writes(connection):
            run_insert(connection, insert, [member("D")])
            run_insert(connection, insert, [member("D")])  # the same key again
        db.session.rollback()
        assert db.session.get(Member, "D") is None


def test_a_query_inside_pipelined_writes_is_refused(pg_config, make_app):
    """SQLAlchemy cannot read a result in pipeline mode: a query there is a bug, said at once
    (not an empty result)."""
    app = make_app(pg_config)
    with app.app_context():
        connection = db.session.connection()
        insert = insert_rows(connection, Member.__table__, member("Q"))
        with (
            pytest.raises(RuntimeError, match="inside pipelined_writes"),
            pipelined_writes(connection),
        ):
            run_insert(connection, insert, [member("Q")])
            db.session.execute(select(Member.id)).all()
        db.session.rollback()
        assert db.session.get(Member, "Q") is None
