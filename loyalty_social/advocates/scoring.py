"""The advocate score and levels: signals per member and UTC day, summed with configured
weights over a rolling window, and the level the score reaches.

Two paths write it, both holding the members' row locks, so they never race:

- ``count_events``: processing calls it in the batch's transaction for the events it
  processes the first time. A consenting member's signals are counted in their day's cell and
  their score is summed again from the cells of the window (at most window x kinds rows by
  primary key): exact at that moment, decay included.
- ``recompute``: the scheduled job. It rebuilds the cells of the window from the sources
  (processed events; counted clicks on the member's share links, which the redirect writes
  without events), drops cells that left the window and scores of members without consent,
  and sums every score again. So clicks arrive in the score at each recompute, and a member
  with no new activity still decays.

A level change records the internal event ``advocate.level_changed`` in the same
transaction (its id is returned, to be dispatched after commit), so rules can pay on it and a
retry records it once. Members without ``social_activity_use`` consent are not scored:
nothing is counted for them, a withdrawal deletes their cells and score, and the recompute
scores only consenting members (from the window's sources, so consenting later scores the
window's past activity).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func

from ..consent.service import current_grants
from ..extensions import db
from ..identity.service import lock_members
from ..intake.internal import record_internal_event
from ..intake.models import ActivityEvent
from ..intake.service import mark_processed
from ..sql import insert_statement, run_insert
from ..timeutil import utcnow
from .models import AdvocateScore, AdvocateSignal, Click, ShareLink

PURPOSE = "social_activity_use"
LEVEL_CHANGED = "advocate.level_changed"
# Event type -> signal kind. Clicks are not events: the recompute reads them.
SIGNALS = {
    "social.share_verified": "tracked_share",
    "referral.attributed": "referral",
    "review.published": "review",
    "community.milestone": "milestone",
}
CHUNK = 500
# The outcome of a level change whose member withdrew consent before it was processed.
WITHDRAWN = {
    "awards": [],
    "held": [],
    "skipped": [],
    "reversed": [],
    "explanations": [],
    "not_matched": [],
    "withdrawn": f"{PURPOSE} consent was withdrawn before this level change was processed",
}


# --- Configuration -----------------------------------------------------------------------


def levels() -> list[tuple[str, int]]:
    """(name, threshold), lowest first."""
    return sorted(current_app.config["ADVOCATE_LEVELS"].items(), key=lambda item: item[1])


def level_for(score: int) -> str:
    reached = levels()[0][0]
    for name, threshold in levels():
        if score >= threshold:
            reached = name
    return reached


def window_start(now: datetime | None = None) -> str:
    """The first UTC day the window holds (ISO date)."""
    today = (now or utcnow()).astimezone(UTC).date()
    return (today - timedelta(days=current_app.config["ADVOCATE_WINDOW_DAYS"] - 1)).isoformat()


def _day(at: datetime) -> str:
    return at.astimezone(UTC).date().isoformat()


# --- Incremental: the processing batch ---------------------------------------------------


def count_events(events, now: datetime | None = None) -> list[str]:
    """Count these events' signals (first processing, members locked by the caller) and
    rescore their members; returns the ids of level-change events recorded."""
    now = now or utcnow()
    start = window_start(now)
    relevant = [e for e in events if e.type in SIGNALS and _day(e.occurred_at) >= start]
    if not relevant:
        return []
    consenting = current_grants([e.member_id for e in relevant], PURPOSE)
    cells: dict[tuple[str, str, str], int] = defaultdict(int)
    for event in relevant:
        if event.member_id in consenting:
            cells[(event.member_id, _day(event.occurred_at), SIGNALS[event.type])] += 1
    if not cells:
        return []
    _add_cells(cells)
    members = sorted({member_id for member_id, _, _ in cells})
    return _rescore(members, _sums(members, start), now)


def _add_cells(cells: dict[tuple[str, str, str], int]) -> None:
    connection = db.session.connection()
    table = AdvocateSignal.__table__
    statement = insert_statement(
        connection.dialect.name, table, ("member_id", "day", "kind", "count")
    )
    statement = statement.on_conflict_do_update(
        index_elements=["member_id", "day", "kind"],
        set_={"count": table.c.count + statement.excluded.count},
    )
    rows = [
        {"member_id": m, "day": d, "kind": k, "count": n} for (m, d, k), n in sorted(cells.items())
    ]
    run_insert(connection, statement, rows)


def _sums(member_ids: list[str], start: str) -> dict[str, int]:
    """Each member's weighted sum over the window's cells."""
    weights = current_app.config["ADVOCATE_WEIGHTS"]
    c = AdvocateSignal.__table__.c
    rows = db.session.execute(
        db.select(c.member_id, c.kind, func.sum(c.count))
        .where(c.member_id.in_(member_ids), c.day >= start)
        .group_by(c.member_id, c.kind)
    )
    scores = dict.fromkeys(member_ids, 0)
    for member_id, kind, count in rows:
        scores[member_id] += weights.get(kind, 0) * int(count)
    return scores


def _rescore(member_ids: list[str], scores: dict[str, int], now: datetime) -> list[str]:
    """Store the scores; record a level change where one happened. Returns the event ids."""
    rows = {
        row.member_id: row
        for row in db.session.scalars(
            db.select(AdvocateScore).where(AdvocateScore.member_id.in_(member_ids))
        )
    }
    lowest = levels()[0][0]
    recorded = []
    for member_id in member_ids:
        score = scores.get(member_id, 0)
        level = level_for(score)
        row = rows.get(member_id)
        if row is None:
            row = AdvocateScore(member_id=member_id, level=lowest, level_since=now)
            db.session.add(row)
        previous = row.level
        row.score, row.updated_at = score, now
        if level != previous:
            ranks = {name: i for i, (name, _) in enumerate(levels())}
            direction = "up" if ranks.get(level, 0) > ranks.get(previous, -1) else "down"
            row.level, row.level_since = level, now
            event_id = record_internal_event(
                LEVEL_CHANGED,
                member_id,
                {"level": level, "previous": previous, "score": score, "direction": direction},
            )
            if event_id:
                recorded.append(event_id)
    db.session.flush()
    return recorded


# --- Full recompute: the scheduled job ---------------------------------------------------


def _click_day(dialect: str):
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", Click.at), "YYYY-MM-DD")
    return func.date(Click.at)


def recompute(now: datetime | None = None) -> tuple[int, list[str]]:
    """Rebuild every score from the sources over the window; commits per chunk of members.
    Returns (members scored, level-change event ids recorded)."""
    now = now or utcnow()
    start = window_start(now)
    start_at = datetime.fromisoformat(start).replace(tzinfo=UTC)
    db.session.execute(delete(AdvocateSignal).where(AdvocateSignal.day < start))
    candidates = set(
        db.session.scalars(
            db.select(ActivityEvent.member_id)
            .where(
                ActivityEvent.type.in_(sorted(SIGNALS)),
                ActivityEvent.status == "processed",
                ActivityEvent.occurred_at >= start_at,
            )
            .distinct()
        )
    )
    candidates |= set(
        db.session.scalars(
            db.select(ShareLink.member_id)
            .join(Click, Click.link_code == ShareLink.code)
            .where(Click.counted.is_(True), Click.at >= start_at)
            .distinct()
        )
    )
    candidates |= set(db.session.scalars(db.select(AdvocateScore.member_id)))
    db.session.commit()
    ordered = sorted(candidates)
    scored, recorded = 0, []
    for i in range(0, len(ordered), CHUNK):
        chunk = ordered[i : i + CHUNK]
        lock_members(chunk)
        consenting = sorted(current_grants(chunk, PURPOSE))
        forget([m for m in chunk if m not in set(consenting)])
        if consenting:
            _rebuild(consenting, start_at)
            recorded += _rescore(consenting, _sums(consenting, start), now)
            scored += len(consenting)
        db.session.commit()
    return scored, recorded


def _rebuild(member_ids: list[str], start_at: datetime) -> None:
    """The window's cells of these members, from the sources."""
    db.session.execute(delete(AdvocateSignal).where(AdvocateSignal.member_id.in_(member_ids)))
    cells: dict[tuple[str, str, str], int] = defaultdict(int)
    events = db.session.execute(
        db.select(ActivityEvent.member_id, ActivityEvent.type, ActivityEvent.occurred_at).where(
            ActivityEvent.member_id.in_(member_ids),
            ActivityEvent.type.in_(sorted(SIGNALS)),
            ActivityEvent.status == "processed",
            ActivityEvent.occurred_at >= start_at,
        )
    )
    for member_id, event_type, occurred_at in events:
        cells[(member_id, _day(occurred_at), SIGNALS[event_type])] += 1
    day = _click_day(db.session.get_bind().dialect.name)
    clicks = db.session.execute(
        db.select(ShareLink.member_id, day, func.count())
        .join(Click, Click.link_code == ShareLink.code)
        .where(ShareLink.member_id.in_(member_ids), Click.counted.is_(True), Click.at >= start_at)
        .group_by(ShareLink.member_id, day)
    )
    for member_id, click_day, count in clicks:
        cells[(member_id, str(click_day), "click")] += int(count)
    if cells:
        _add_cells(cells)


# --- Consent, reading --------------------------------------------------------------------


def forget(member_ids: list[str]) -> None:
    """Not scored any more (consent withdrawn): their cells and score go, in the caller's
    transaction (the consent withdrawal's), and a level change recorded for them but not yet
    processed is closed unpaid, so nothing pays on a score they withdrew."""
    if not member_ids:
        return
    db.session.execute(delete(AdvocateSignal).where(AdvocateSignal.member_id.in_(member_ids)))
    db.session.execute(delete(AdvocateScore).where(AdvocateScore.member_id.in_(member_ids)))
    waiting = db.session.scalars(
        db.select(ActivityEvent.id)
        .where(
            ActivityEvent.member_id.in_(member_ids),
            ActivityEvent.type == LEVEL_CHANGED,
            ActivityEvent.status == "pending",
        )
        .with_for_update(skip_locked=True)  # one a worker holds is decided there
    ).all()
    mark_processed({event_id: dict(WITHDRAWN) for event_id in waiting})


def levels_of(member_ids: list[str]) -> dict[str, str]:
    """Scored members' levels, in one query (rules read ``member.advocate_level``)."""
    rows = db.session.execute(
        db.select(AdvocateScore.member_id, AdvocateScore.level).where(
            AdvocateScore.member_id.in_(sorted(set(member_ids)))
        )
    )
    return dict(rows.all())


def standing(member_id: str) -> dict:
    """The member's score, level and the next level (the portal, the timeline)."""
    row = db.session.get(AdvocateScore, member_id)
    score = row.score if row is not None else 0
    level = row.level if row is not None else levels()[0][0]
    upcoming = [(name, t) for name, t in levels() if t > score]
    return {
        "scored": row is not None,
        "score": score,
        "level": level,
        "level_since": row.level_since if row is not None else None,
        "next_level": upcoming[0][0] if upcoming else None,
        "next_threshold": upcoming[0][1] if upcoming else None,
        "levels": [{"name": name, "threshold": t} for name, t in levels()],
        "window_days": current_app.config["ADVOCATE_WINDOW_DAYS"],
    }
