"""SQL the features share that the ORM does not say portably."""

import functools
from contextlib import contextmanager
from datetime import date, datetime

import orjson
from sqlalchemy import (
    JSON,
    String,
    and_,
    bindparam,
    cast,
    event,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeout


def insert_rows(connection, table, columns):
    """An INSERT of many rows whose SQL text does not depend on how many: run it with
    ``run_insert``; add ``on_conflict_*`` and ``returning`` as usual.

    On PostgreSQL the rows travel as one JSON parameter that ``json_populate_recordset``
    expands with the table's own column types: ``rows_json`` encodes a batch, and the
    statement is compiled and prepared once. A multi-row VALUES list would be a new statement
    for every batch size, and psycopg parses its thousands of placeholders in Python each time.
    SQLite runs the plain INSERT as an executemany.
    """
    return insert_statement(connection.dialect.name, table, tuple(columns))


@functools.lru_cache(maxsize=64)
def insert_statement(dialect: str, table, columns: tuple):
    """``insert_rows`` by dialect name: built once per table and column list (statements are
    immutable), so callers can cache what they build on it (``on_conflict_*``)."""
    if dialect != "postgresql":
        return sqlite.insert(table)
    rows = func.json_populate_recordset(
        literal_column(f'NULL::"{table.name}"'), cast(bindparam("rows", type_=String), JSON)
    )
    source = rows.table_valued(*columns).alias("r")
    return postgresql.insert(table).from_select(columns, select(*(source.c[c] for c in columns)))


def run_insert(connection, statement, rows: list[dict]):
    """Execute an ``insert_rows`` statement for ``rows`` (dicts with the same keys)."""
    if connection.dialect.name != "postgresql":
        return connection.execute(statement, rows)
    return run_write(connection, statement, {"rows": rows_json(rows)})


def run_write(connection, statement, params: dict):
    """Execute a write; inside ``pipelined_writes`` send it without waiting (returns None).

    There, parameters go to the driver as they are: JSON text and plain values only.
    """
    cursor = connection.info.get(_PIPELINE)
    if cursor is None:
        return connection.execute(statement, params)
    cursor.execute(_driver_sql(connection.dialect, statement), params, prepare=True)
    return None


# --- Pipelined writes ----------------------------------------------------------------------

_PIPELINE = "loyalty_social.pipeline"


@contextmanager
def pipelined_writes(connection, enabled: bool = True):
    """Send the block's ``run_write``/``run_insert`` statements without waiting for each
    (psycopg pipeline mode): PostgreSQL executes one while Python builds the next, so a batch's
    trailing writes cost about their database time, not that plus the Python between them.

    Only those writes may use the connection inside: a query would need its result at once,
    and SQLAlchemy cannot read one in pipeline mode (``refuse_queries_in_pipeline`` makes that
    an error). A failed write raises when the block ends; the caller's transaction is then
    aborted, as for any failed statement. Elsewhere (SQLite, ``enabled=False``) statements run
    one by one as usual.
    """
    if not enabled or connection.dialect.name != "postgresql" or _PIPELINE in connection.info:
        yield
        return
    driver = connection.connection.driver_connection
    error_class = type(driver).Error
    try:
        with driver.pipeline():
            connection.info[_PIPELINE] = driver.cursor()
            try:
                yield
            finally:
                connection.info.pop(_PIPELINE).close()
    except error_class as error:  # as SQLAlchemy would have raised it (IntegrityError, ...)
        raise DBAPIError.instance(None, None, error, error_class) from error


def in_pipeline(connection) -> bool:
    return _PIPELINE in connection.info


@functools.lru_cache(maxsize=64)
def _driver_sql(dialect, statement) -> str:
    """The statement as the driver's SQL text (statements are immutable and built once)."""
    return str(statement.compile(dialect=dialect))


def refuse_queries_in_pipeline(engine) -> None:
    """A statement run through SQLAlchemy inside ``pipelined_writes`` is a programming error:
    say so at once, instead of a result that looks empty."""

    @event.listens_for(engine, "before_cursor_execute")
    def _refuse(connection, _cursor, statement, *_args):
        if _PIPELINE in connection.info:
            raise RuntimeError(
                "SQLAlchemy statement inside pipelined_writes (only run_write/run_insert "
                f"may run there): {statement[:80]}"
            )


def rows_json(rows: list[dict]) -> str:
    """A batch of rows as JSON text. orjson: a batch is up to a megabyte of JSON, and the
    standard library encoder took a fifth of a worker's evaluation time to write it."""
    try:
        return orjson.dumps(
            rows, default=_JsonValues(), option=orjson.OPT_PASSTHROUGH_DATETIME
        ).decode()
    except TypeError as error:  # orjson wraps what ``default`` raised
        if isinstance(error.__cause__, ValueError):
            raise error.__cause__ from None
        raise


class _JsonValues(dict):
    """The JSON ``default`` for one batch: a batch repeats the same few timestamps
    (its ``now``) thousands of times, so each is formatted once."""

    def __call__(self, value):
        text = self.get(value)
        if text is None:
            if not isinstance(value, datetime | date):
                raise TypeError(f"{type(value).__name__} is not JSON serialisable")
            if isinstance(value, datetime) and value.tzinfo is None:
                # As dbtypes.UTCDateTime: PostgreSQL would read it in its session's time zone.
                raise ValueError("naive datetime given; use timezone-aware UTC")
            text = self[value] = value.isoformat()
        return text


def insert_ignoring_duplicates(connection, table, rows: list[dict], keys: list[str]):
    """INSERT ... ON CONFLICT (keys) DO NOTHING RETURNING the keys of the rows inserted."""
    if not rows:
        return []
    statement = _ignoring_duplicates(connection.dialect.name, table, tuple(rows[0]), tuple(keys))
    return run_insert(connection, statement, rows).all()


@functools.lru_cache(maxsize=64)
def _ignoring_duplicates(dialect: str, table, columns: tuple, keys: tuple):
    return (
        insert_statement(dialect, table, columns)
        .on_conflict_do_nothing(index_elements=list(keys))
        .returning(*(table.c[k] for k in keys))
    )


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


def timeline_rows(query, at_column, id_column, source: str, cursor, limit: int) -> list:
    """One source's rows of a merged timeline, newest first, after ``cursor`` (``(at, source,
    id)`` of the last item shown). The timeline's order is time, then source, then id, all
    descending, so items with equal timestamps keep one stable order across pages. Ids compare
    bytewise (PostgreSQL: ``COLLATE "C"``), as Python compares them when merging."""
    from .extensions import db

    ident = id_column
    if db.session.get_bind().dialect.name == "postgresql" and isinstance(id_column.type, String):
        ident = id_column.collate("C")
    if cursor is not None:
        at, after_source, after_id = cursor
        if source < after_source:
            query = query.where(at_column <= at)
        elif source > after_source:
            query = query.where(at_column < at)
        else:
            query = query.where(or_(at_column < at, and_(at_column == at, ident < after_id)))
    return list(db.session.scalars(query.order_by(at_column.desc(), ident.desc()).limit(limit)))


# --- Errors that pass by themselves ---------------------------------------------------------

# PostgreSQL SQLSTATEs of errors a retry a little later clears: serialization failure,
# deadlock, lock_not_available (lock_timeout, NOWAIT), query_canceled (statement_timeout),
# too many connections / out of resources, the server shutting down or starting up.
TRANSIENT_SQLSTATES = frozenset(
    {"40001", "40P01", "55P03", "57014", "53000", "53100", "53200", "53300"}
    | {"57P01", "57P02", "57P03"}
)
# Connection exceptions (class 08): the connection broke; a new one will do.
TRANSIENT_SQLSTATE_CLASSES = ("08",)
# SQLite: another connection holds the write lock longer than busy_timeout.
_SQLITE_TRANSIENT = ("database is locked", "database table is locked")


def is_transient(error: BaseException) -> bool:
    """Will this database error pass by itself (retry the work later), or not (a bug, bad
    data: retrying changes nothing)? Looks through SQLAlchemy's wrapper and the causes."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, DBAPIError) and error.connection_invalidated:
            return True
        if isinstance(error, (DisconnectionError, PoolTimeout)):
            return True
        state = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
        if state and (state in TRANSIENT_SQLSTATES or state.startswith(TRANSIENT_SQLSTATE_CLASSES)):
            return True
        if type(error).__module__.startswith("sqlite3") and any(
            words in str(error) for words in _SQLITE_TRANSIENT
        ):
            return True
        if _lost_connection(error):
            return True
        error = getattr(error, "orig", None) or error.__cause__ or error.__context__
    return False


def _lost_connection(error: BaseException) -> bool:
    """psycopg's OperationalError without a SQLSTATE: the server went away mid-statement."""
    module = type(error).__module__
    return (
        module.startswith("psycopg")
        and type(error).__name__ == "OperationalError"
        and not getattr(error, "sqlstate", None)
    )


def set_lock_timeout(connection, seconds: float) -> None:
    """PostgreSQL: wait at most ``seconds`` for a row lock in this transaction (then a
    lock_not_available error, which ``is_transient``), instead of holding a worker hostage
    to another session's lock. 0: wait as long as it takes. SQLite has busy_timeout instead."""
    if seconds and connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = {int(seconds * 1000)}")
