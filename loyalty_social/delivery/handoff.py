"""Handing committed outbox rows to delivery: a session hook collects the ids a transaction
wrote and, once it commits (never before), enqueues ``delivery.deliver`` jobs of a batch each:
on RQ's ``delivery`` queue, or on the embedded default on this process's delivery thread
(``queue.py``); either way never on the thread that committed. A row a job never sees is
found by the sweeper."""

from __future__ import annotations

import logging

from flask import current_app, has_app_context
from sqlalchemy import event as sa_event

from ..extensions import db
from ..queue import enqueue

log = logging.getLogger(__name__)
_KICK = "loyalty_social.delivery.kick"  # session.info: ids to hand to a job after commit


def kick_after_commit(ids: list[str]) -> None:
    db.session.info.setdefault(_KICK, []).extend(ids)


def _after_commit(session) -> None:
    ids = session.info.pop(_KICK, None)
    if ids and has_app_context():
        kick(ids)


def _after_rollback(session) -> None:
    session.info.pop(_KICK, None)


def install_session_hooks() -> None:
    """Kick delivery for rows a transaction wrote, once it commits (never before)."""
    if not sa_event.contains(db.session, "after_commit", _after_commit):
        sa_event.listen(db.session, "after_commit", _after_commit)
        sa_event.listen(db.session, "after_rollback", _after_rollback)


def kick(ids: list[str]) -> None:
    """Start delivering these rows now, in jobs of a batch each.

    Never raises: a row a job never sees is found by the sweeper.
    """
    size = current_app.config["DELIVERY_BATCH_SIZE"]
    for start in range(0, len(ids), size):
        try:
            enqueue("delivery.deliver", ids[start : start + size])
        except Exception:
            log.warning("enqueueing %d deliveries failed; the sweeper will send them", len(ids))
            return
