"""Writing clicks without a commit per redirect: request threads hand a click to one writer
thread per web process and answer at once; the writer stores everything that queued up in a
few statements and one commit (SHARE_CLICK_BATCH_MAX, SHARE_CLICK_LINGER_SECONDS).

"Counted" (a distinct human click) is decided by the database, not the process: a click
that is not a bot and not a repeat (cookie) is inserted as counted under the partial unique
index (link, visitor) WHERE counted; the one that loses is stored as a repeat. Several web
processes therefore never count one visitor twice. A crash loses at most the clicks of one
batch in flight, never a redirect.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import namedtuple

from sqlalchemy import bindparam, text, update
from sqlalchemy.exc import IntegrityError

from ..analytics import rollups
from ..batching import BatchingThread
from ..extensions import db
from ..intake.committer import dispatch
from ..sql import insert_statement, is_transient, rows_json, run_insert
from .models import Click, ShareLink
from .verification import verify_ready

log = logging.getLogger(__name__)
CLICKS = Click.__table__
COLUMNS = ("link_code", "at", "referrer_host", "agent", "visitor", "counted", "bot", "repeat")
# One click as the redirect saw it: bot (crawler, preview fetcher, HEAD) and repeat (its
# referral cookie already names this link) are known then; counted is decided here.
Seen = namedtuple("Seen", "link_code at referrer_host agent visitor bot repeat")

LINKS = ShareLink.__table__
_COUNTERS = (
    update(LINKS)
    .where(LINKS.c.code == bindparam("link"))
    .values(
        clicks=LINKS.c.clicks + bindparam("n_counted"),
        bot_clicks=LINKS.c.bot_clicks + bindparam("n_bot"),
        repeat_clicks=LINKS.c.repeat_clicks + bindparam("n_repeat"),
        last_click_at=bindparam("last_at"),
    )
)
_BOT_COUNTER = (
    update(LINKS)
    .where(LINKS.c.code == bindparam("link"))
    .values(bot_clicks=LINKS.c.bot_clicks + bindparam("n_bot"))
)
# PostgreSQL: the batch's links locked in one order (two processes' writers never deadlock),
# then all their counters in one statement, not one UPDATE per link. NO KEY UPDATE, as the
# UPDATE itself takes: FOR UPDATE would wait on the KEY SHARE locks the other writer's click
# rows hold on the same links (their foreign key), and that writer on ours.
_PG_LOCK = text(
    "SELECT code FROM share_link WHERE code IN "
    "(SELECT value FROM json_array_elements_text(CAST(:codes AS json))) ORDER BY code "
    "FOR NO KEY UPDATE"
)
_PG_COUNTERS = text(
    "UPDATE share_link AS l SET clicks = l.clicks + t.n_counted, "
    "bot_clicks = l.bot_clicks + t.n_bot, repeat_clicks = l.repeat_clicks + t.n_repeat, "
    "last_click_at = COALESCE(t.last_at, l.last_click_at) "
    "FROM json_to_recordset(CAST(:rows AS json)) AS t(link varchar, n_counted int, n_bot int, "
    "n_repeat int, last_at timestamptz) WHERE l.code = t.link"
)


def _counted_insert(dialect: str):
    return (
        insert_statement(dialect, CLICKS, COLUMNS)
        .on_conflict_do_nothing(
            index_elements=["link_code", "visitor"], index_where=text("counted")
        )
        .returning(CLICKS.c.link_code, CLICKS.c.visitor)
    )


def write_clicks(clicks: list[Seen]) -> list[str]:
    """Store a batch of clicks and their links' counters in the session's transaction;
    record social.share_verified for links it brought to the threshold. Returns those new
    event ids (dispatch after commit)."""
    connection = db.session.connection()
    dialect = connection.dialect.name
    candidates, others, seen = [], [], set()
    for click in clicks:
        row = click._asdict()
        key = (click.link_code, click.visitor)
        if click.bot or click.repeat or key in seen:
            others.append({**row, "counted": False, "repeat": not click.bot})
        else:
            seen.add(key)
            candidates.append({**row, "counted": True})
    counted = set()
    # One order for every writer: two batches inserting the same (link, visitor) pairs in
    # different orders would wait on each other's unique-index entries (a deadlock).
    candidates.sort(key=lambda r: (r["link_code"], r["visitor"]))
    if candidates:
        counted = {tuple(r) for r in run_insert(connection, _counted_insert(dialect), candidates)}
    winners = [r for r in candidates if (r["link_code"], r["visitor"]) in counted]
    for row in winners:  # the funnel's clicks: distinct human visitors of a link
        rollups.add(db.session, "advocates.click", row["at"])
    others += [
        {**row, "counted": False, "repeat": True}
        for row in candidates
        if (row["link_code"], row["visitor"]) not in counted
    ]
    if others:
        run_insert(connection, insert_statement(dialect, CLICKS, COLUMNS), others)
    tallies: dict[str, dict] = {}
    for row in winners + others:
        tally = tallies.setdefault(
            row["link_code"],
            {"link": row["link_code"], "n_counted": 0, "n_bot": 0, "n_repeat": 0, "last_at": None},
        )
        if row["bot"]:
            tally["n_bot"] += 1
            continue
        tally["n_counted" if row["counted"] else "n_repeat"] += 1
        tally["last_at"] = max(tally["last_at"] or row["at"], row["at"])
    _update_counters(connection, [tallies[code] for code in sorted(tallies)])
    grown = sorted(code for code, tally in tallies.items() if tally["n_counted"])
    return verify_ready(grown) if grown else []


def _update_counters(connection, tallies: list[dict]) -> None:
    """Sorted by code: one lock order. A batch of bots only keeps the last human click's time."""
    if connection.dialect.name == "postgresql":
        connection.execute(_PG_LOCK, {"codes": rows_json([t["link"] for t in tallies])})
        connection.execute(_PG_COUNTERS, {"rows": rows_json(tallies)})
        return
    with_time = [t for t in tallies if t["last_at"] is not None]
    without = [{"link": t["link"], "n_bot": t["n_bot"]} for t in tallies if t["last_at"] is None]
    if with_time:
        connection.execute(_COUNTERS, with_time)
    if without:
        connection.execute(_BOT_COUNTER, without)


class ClickWriter(BatchingThread):
    """The writer thread of one app in one process (recreated after a fork)."""

    def __init__(self, app):
        self.app = app
        self.pid = os.getpid()
        super().__init__(
            "advocates-clicks",
            self._write,
            app.config["SHARE_CLICK_BATCH_MAX"],
            linger_seconds=app.config["SHARE_CLICK_LINGER_SECONDS"],
        )

    def _write(self, clicks: list[Seen]) -> None:
        with self.app.app_context():
            for attempt in range(3):
                try:
                    new_events = write_clicks(clicks)
                    db.session.commit()
                    break
                except IntegrityError:  # a link erased meanwhile: keep the others' clicks
                    db.session.rollback()
                    new_events = self._write_existing(clicks)
                    break
                except Exception as error:  # the database away a moment: the batch again
                    db.session.rollback()
                    if attempt == 2 or not is_transient(error):
                        raise
                    time.sleep(0.1 * (attempt + 1))
            if new_events:
                dispatch(new_events, self.app.config["PROCESS_BATCH_SIZE"])

    @staticmethod
    def _write_existing(clicks: list[Seen]) -> list[str]:
        codes = {c.link_code for c in clicks}
        existing = set(
            db.session.scalars(db.select(ShareLink.code).where(ShareLink.code.in_(codes)))
        )
        kept = [c for c in clicks if c.link_code in existing]
        log.warning("%d click(s) for erased links dropped", len(clicks) - len(kept))
        new_events = write_clicks(kept) if kept else []
        db.session.commit()
        return new_events


_lock = threading.Lock()


def writer(app) -> ClickWriter:
    current = app.extensions.get("loyalty_social.click_writer")
    if current is None or current.pid != os.getpid():
        with _lock:
            current = app.extensions.get("loyalty_social.click_writer")
            if current is None or current.pid != os.getpid():
                current = app.extensions["loyalty_social.click_writer"] = ClickWriter(app)
    return current
