"""SQL the features share that the ORM does not say portably."""

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite


def dialect_insert(connection, table):
    """The dialect's INSERT, which knows ON CONFLICT (PostgreSQL and SQLite both do)."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def insert_ignoring_duplicates(connection, table, rows: list[dict], keys: list[str]):
    """INSERT ... ON CONFLICT (keys) DO NOTHING RETURNING the keys of the rows inserted."""
    statement = (
        dialect_insert(connection, table)
        .values(rows)
        .on_conflict_do_nothing(index_elements=keys)
        .returning(*(table.c[k] for k in keys))
    )
    return connection.execute(statement).all()


def configure_sqlite(engine) -> None:
    """WAL, foreign keys, and BEGIN IMMEDIATE: threads of one process write without deadlocks."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # let SQLAlchemy's begin event issue BEGIN
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def newest_first_page(model, filters: dict, after: str | None, limit: int, *conditions):
    """One page of ``model`` rows, newest first, keyset-paginated by their time-ordered id.

    ``filters`` maps columns to values (None: no filter); ``conditions`` are further WHERE
    clauses. Returns (rows, next_after).
    """
    from .extensions import db

    query = db.select(model).where(*conditions).order_by(model.id.desc()).limit(limit + 1)
    for column, value in filters.items():
        if value is not None:
            query = query.where(column == value)
    if after:
        query = query.where(model.id < after)
    rows = list(db.session.scalars(query))
    next_after = rows[limit - 1].id if len(rows) > limit else None
    return rows[:limit], next_after
