"""Group commit and dispatch: how intake stays durable without one commit per request.

Request threads hand their validated event to the ``GroupCommitter`` and wait. Its thread
writes everything that queued up meanwhile in one multi-row INSERT ... ON CONFLICT DO NOTHING
and one commit, then wakes each waiter with its own outcome (new, duplicate, conflict). A 202
is therefore only ever sent for a committed event, while N concurrent requests cost one commit.

A group whose commit fails is not failed as a whole: the events in it did nothing wrong
together, so it is written again in halves on a fresh connection until the row(s) the database
refuses stand alone. Only such a row gets an error: 422 when the database refused its content
(a value it cannot store), else its own 5xx; a database that is unreachable fails the group
once more as a whole (503, retry later) rather than once per row.

Newly stored ids then go to the ``Dispatcher`` thread, which enqueues ``process_events`` in
batches, off the request path. If enqueueing fails (Redis down), the events simply stay
``pending`` and the sweeper picks them up later.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError, StatementError

from ..batching import BatchingThread
from ..errors import Problem
from ..privacy import Tombstones
from ..sql import insert_ignoring_duplicates
from ..timeutil import utcnow
from .models import ActivityEvent

log = logging.getLogger(__name__)
EVENTS = ActivityEvent.__table__
WAIT_SECONDS = 30


@dataclass(frozen=True)
class StoreResult:
    id: str
    status: str
    duplicate: bool
    conflict: bool = False
    outcome: dict | None = None
    dropped: bool = False  # about an erased member: accepted, and not stored


DROPPED = StoreResult(None, "dropped", duplicate=False, dropped=True)


def _insert_new(connection, rows: list[dict]) -> set[tuple]:
    """Insert rows whose (source, webhook-id) is new; return the keys inserted."""
    keys = ["source_name", "webhook_id"]
    return {tuple(r) for r in insert_ignoring_duplicates(connection, EVENTS, rows, keys)}


def store_events(connection, rows: list[dict], tombstones=None) -> list[StoreResult]:
    """Write a batch of new events in one transaction; report each row's outcome in order.

    Events about erased members (``tombstones``: one indexed lookup per batch) are dropped,
    never stored: a replayed webhook, old id or new, recreates nothing.

    One INSERT per batch whose text does not depend on the batch size (``sql.insert_rows``),
    so a batch costs no SQL compilation. Only repeats cost a second query: new rows are known
    from RETURNING, and a repeat inside the same batch is compared with the row that won.
    """
    with connection.begin():
        erased = tombstones.erased(connection, {r["member_id"] for r in rows}) if tombstones else ()
        kept = [row for row in rows if row["member_id"] not in erased]
        first = _first_rows(kept)
        inserted = _insert_new(connection, list(first.values()))
        stored = {
            key: StoreResult(row["id"], "pending", duplicate=True)
            for key, row in first.items()
            if key in inserted
        }
        hashes = {key: row["body_sha256"] for key, row in first.items() if key in inserted}
        older: dict[str, list[str]] = {}
        for source_name, webhook_id in (key for key in first if key not in inserted):
            older.setdefault(source_name, []).append(webhook_id)
        for source_name, webhook_ids in older.items():
            query = select(
                EVENTS.c.id,
                EVENTS.c.webhook_id,
                EVENTS.c.body_sha256,
                EVENTS.c.status,
                EVENTS.c.outcome,
            ).where(EVENTS.c.source_name == source_name, EVENTS.c.webhook_id.in_(webhook_ids))
            for r in connection.execute(query):
                key = (source_name, r.webhook_id)
                stored[key] = StoreResult(r.id, r.status, duplicate=True, outcome=r.outcome)
                hashes[key] = r.body_sha256
    results = []
    for row in rows:
        if row["member_id"] in erased:
            results.append(DROPPED)
            continue
        key = (row["source_name"], row["webhook_id"])
        winner = stored[key]
        if key in inserted and first[key] is row:
            results.append(StoreResult(winner.id, "pending", duplicate=False))
        elif hashes[key] != row["body_sha256"]:
            results.append(StoreResult(winner.id, winner.status, True, conflict=True))
        else:
            results.append(winner)
    return results


def _first_rows(rows: list[dict]) -> dict[tuple, dict]:
    """The first row of each (source, webhook-id) in the batch: the one that may insert."""
    first: dict[tuple, dict] = {}
    for row in rows:
        first.setdefault((row["source_name"], row["webhook_id"]), row)
    return first


class GroupCommitter:
    """One writer thread per web process; requests wait on a Future for their commit."""

    def __init__(self, engine, on_stored, max_batch: int, tombstones=None):
        self.engine = engine
        self.tombstones = tombstones
        self.on_stored = on_stored
        self.max_batch = max_batch
        # The thread's own connection, kept open: no pool checkout or ping per batch.
        self._connection = None
        self._queue: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="intake-committer", daemon=True)
        self._thread.start()

    def submit(self, row: dict) -> StoreResult:
        future: Future = Future()
        self._queue.put((row, future))
        return future.result(timeout=WAIT_SECONDS)

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)

    def _discard_connection(self) -> None:
        if self._connection is not None:
            try:
                self._connection.invalidate()
                self._connection.close()
            except Exception:
                log.debug("closing a broken connection failed", exc_info=True)
            self._connection = None

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                self._discard_connection()
                return
            batch = [item]
            while len(batch) < self.max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.put(None)
                    break
                batch.append(nxt)
            self.commit_group(batch)

    def commit_group(self, batch, retried: bool = False) -> None:
        """Store a group; on failure, isolate the row(s) at fault (see the module docstring)."""
        try:
            if self._connection is None:
                self._connection = self.engine.connect()
            results = store_events(self._connection, [row for row, _ in batch], self.tombstones)
        except Exception as error:  # the group rolled back: nothing of it is stored
            self._discard_connection()
            if _unavailable(error):
                if retried:  # twice in a row: the database is down, not this group
                    for _, future in batch:
                        future.set_exception(error)
                else:  # a dropped connection, a deadlock: once more, as it was
                    self.commit_group(batch, retried=True)
            elif len(batch) == 1:
                batch[0][1].set_exception(_row_error(error, batch[0][0]))
            else:
                middle = len(batch) // 2
                self.commit_group(batch[:middle], retried)
                self.commit_group(batch[middle:], retried)
            return
        for (_, future), result in zip(batch, results, strict=True):
            future.set_result(result)
        new_ids = [r.id for r in results if not r.duplicate and not r.dropped]
        if new_ids:
            self.on_stored(new_ids)


def _unavailable(error: Exception) -> bool:
    """The database, not the rows: unreachable, connection lost, deadlock, serialization."""
    return isinstance(error, OperationalError) or (
        isinstance(error, DBAPIError) and error.connection_invalidated
    )


def _row_error(error: Exception, row: dict) -> Exception:
    """What a row that fails alone answers: 422 when the database refused its content."""
    cause = error.orig if isinstance(error, StatementError) else error
    if isinstance(error, DataError | IntegrityError) or isinstance(
        cause, ValueError | TypeError | UnicodeError
    ):
        log.warning("event %s refused by the database: %s", row["webhook_id"], type(cause).__name__)
        return Problem(
            "event-not-storable",
            f"The database refused to store this event ({type(cause).__name__}); "
            "sending it again will not help.",
        )
    return error


class Dispatcher(BatchingThread):
    """Enqueues processing for stored events in batches, off the request path."""

    def __init__(self, app, batch_size: int):
        self.app = app
        super().__init__(
            "intake-dispatcher",
            self._dispatch,
            batch_size,
            linger_seconds=app.config["DISPATCH_LINGER_SECONDS"],
        )

    def _dispatch(self, ids: list[str]) -> None:
        """Just enqueue: rows are stored with enqueued_at = received_at, which is what the
        sweeper looks at, so the hot path writes nothing more per event."""
        from ..queue import enqueue

        with self.app.app_context():
            enqueue("rules.process_events", ids)


def dispatch(event_ids: list[str], batch_size: int) -> int:
    """Note when, then enqueue process_events for ids in batches (sweeper, replay, internal
    events); returns how many were sent."""
    from ..extensions import db
    from ..queue import enqueue

    sent = 0
    for start in range(0, len(event_ids), batch_size):
        chunk = event_ids[start : start + batch_size]
        # Mark first: a job that runs before this UPDATE commits must not find it undone later.
        db.session.execute(
            update(ActivityEvent).where(ActivityEvent.id.in_(chunk)).values(enqueued_at=utcnow())
        )
        db.session.commit()
        enqueue("rules.process_events", chunk)
        sent += len(chunk)
    return sent


class IntakePipeline:
    """The committer and dispatcher of one app in one process (recreated after a fork)."""

    def __init__(self, app):
        from ..extensions import db

        self.pid = os.getpid()
        with app.app_context():
            engine = db.engine
        self.dispatcher = Dispatcher(app, app.config["PROCESS_BATCH_SIZE"])
        self.committer = GroupCommitter(
            engine, self.dispatcher.notify, app.config["INTAKE_GROUP_MAX"], Tombstones(app)
        )

    def stop(self) -> None:
        self.committer.stop()
        self.dispatcher.stop()


_pipeline_lock = threading.Lock()


def pipeline(app) -> IntakePipeline:
    current = app.extensions.get("loyalty_social.intake")
    if current is None or current.pid != os.getpid():
        with _pipeline_lock:
            current = app.extensions.get("loyalty_social.intake")
            if current is None or current.pid != os.getpid():
                current = IntakePipeline(app)
                app.extensions["loyalty_social.intake"] = current
    return current
