"""What a failed batch does with its events: wait for a retry, or fail.

An error that passes by itself (deadlock, lock or statement timeout, serialization failure,
lost connection: ``sql.is_transient``) leaves the events pending, notes why they wait (the
member's explanation says so) and fails the job, so RQ runs it again with backoff
(``queue.RETRY_INTERVALS``) and the sweeper after that. Only an error that will not pass by
itself (a bug, data we cannot handle) marks an event ``failed``.
"""

from __future__ import annotations

import logging

from flask import current_app

from .. import sql
from ..extensions import db
from ..intake import service as intake
from ..metrics import EVENTS_PROCESSED

log = logging.getLogger(__name__)


class RetryLater(RuntimeError):
    """Raised out of the job so that RQ retries it; its events are still pending."""


def lock_timeout() -> float:
    return current_app.config["PROCESS_LOCK_TIMEOUT_SECONDS"]


def wait(event_ids: list[str], error: BaseException) -> RetryLater:
    """Leave the events pending and say why they wait; returns the exception to raise."""
    log.warning("temporary database error; the batch will be retried: %s", type(error).__name__)
    EVENTS_PROCESSED.labels("retried").inc(len(event_ids))
    reason = describe(error)
    try:
        sql.set_lock_timeout(db.session.connection(), lock_timeout())
        intake.note_retry(event_ids, reason)
        db.session.commit()
    except Exception:  # the database is still unwell: the retry will say it again
        db.session.rollback()
    return RetryLater(reason)


def fail(event_id: str, error: BaseException) -> None:
    """An error that will not pass by itself: the event is failed, for an operator to see."""
    log.error("event failed", exc_info=error)
    intake.mark_failed(event_id, describe(error))
    db.session.commit()
    EVENTS_PROCESSED.labels("failed").inc()


def describe(error: BaseException) -> str:
    """The error's first line (PostgreSQL adds context lines that may quote row values)."""
    cause = getattr(error, "orig", None) or error
    text = str(cause).strip()
    return f"{type(cause).__name__}: {text.splitlines()[0] if text else ''}"[:300]
