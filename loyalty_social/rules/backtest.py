"""Backtest: a draft or changed rule over the stored events of a past period, paying nothing.

The rule is evaluated alone (other rules' exclusivity is not simulated), with counters and
budgets simulated from zero at ``since`` (limits reached before the window are not seen), the
members' current attributes and consent, and the real "object removed" facts. The report is
per day in the rule's time zone: members, awards, held awards and points cost.
"""

from __future__ import annotations

import gc
import json
from collections import Counter, defaultdict
from contextlib import contextmanager
from types import SimpleNamespace

import orjson
from flask import current_app

from ..extensions import db
from ..identity.models import Member
from ..ids import new_id
from ..intake import service as intake
from ..intake.models import ActivityEvent
from ..timeutil import utcnow
from . import documents, service
from .compiled import ALL_TYPES, compile_rule
from .evaluation import decide
from .facts import Facts
from .limits import DryCounterStore
from .models import Backtest
from .processing import REMOVALS, REMOVED_BY, ProcessingEnv

PAGE = 10_000
# What evaluation reads of an event (as processing claims it) and of its member, in one
# query: the payloads as text, parsed only when a rule reads them.
EVALUATED = (
    ActivityEvent.id,
    ActivityEvent.type,
    ActivityEvent.member_id,
    ActivityEvent.occurred_at,
    ActivityEvent.received_at,
    ActivityEvent.evidence,
    ActivityEvent.source_name,
    ActivityEvent.object_key,
    db.cast(ActivityEvent.data, db.Text),
    Member.id,
    Member.tier,
    db.cast(Member.attributes, db.Text),
    Member.created_at,
)


def _json(text: str | None):
    if text is None:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # beyond orjson (integers over 64 bits): the reference
        return json.loads(text)


class StoredEvent:
    """A stored, processed event as evaluation reads it: a plain slotted record (no ORM, no
    identity map), its payload parsed on first read (most rules read only a few fields of
    the member, the evidence and the type)."""

    __slots__ = (
        "_data",
        "_text",
        "evidence",
        "id",
        "member_id",
        "object_key",
        "occurred_at",
        "received_at",
        "source_name",
        "type",
    )
    attempts = 1
    outcome = None
    status = "processed"

    def __init__(self, row):
        (
            self.id,
            self.type,
            self.member_id,
            self.occurred_at,
            self.received_at,
            self.evidence,
            self.source_name,
            self.object_key,
            self._text,
        ) = row[:9]
        self._data = _UNREAD

    @property
    def data(self):
        if self._data is _UNREAD:
            self._data = _json(self._text)
        return self._data


_UNREAD = object()


class BacktestEnv(ProcessingEnv):
    """Simulated budgets; everything else as processing sees it, without writing."""

    def __init__(self, config, rule):
        super().__init__(DryCounterStore(), set(), config, count_all=True)
        # Only what this rule reads is counted: its conditions' activity counters, and the
        # events received per day when it holds the awards of members over the velocity check.
        self.read_scopes = {f"t:{event_type}" for event_type, _, _ in rule.counters}
        if not rule.hold_flagged:
            self.velocity = 0
        self.counts_activity = bool(self.read_scopes or rule.streaks or self.velocity)
        self.spent = {"rule": [0, 0], "campaign": [0, 0]}
        self.rule = rule
        self.campaign = service.get_campaign(rule.campaign_id) if rule.campaign_id else None

    def activity_scopes(self, event):
        return tuple(s for s in super().activity_scopes(event) if s in self.read_scopes)

    def take_budget(self, rule, points):
        checks = [("rule", rule.budget_points, rule.budget_count)]
        if self.campaign is not None:
            checks.append(("campaign", self.campaign.budget_points, self.campaign.budget_count))
        for name, budget_points, budget_count in checks:
            spent_points, spent_count = self.spent[name]
            if (budget_points is not None and spent_points + points > budget_points) or (
                budget_count is not None and spent_count + 1 > budget_count
            ):
                return f"the {name}'s budget would have been spent"
        for name, *_ in checks:
            self.spent[name][0] += points
            self.spent[name][1] += 1
        return None


def start(
    rule_id: str, since, until=None, doc: dict | None = None, actor=None, loaded=False
) -> str:
    """Record a backtest of the saved rule (or of ``doc``, a changed definition); its id.

    Commits and reads nothing after: on SQLite even a read would take the write lock that
    the in-process job needs."""
    row = service.get_rule(rule_id)
    if doc is None:
        document = documents.document(row)
    else:
        document = doc if loaded else service.validate_document(doc)
    until = until or utcnow()  # until <= since: an empty window, an empty report
    backtest_id = new_id("btt")
    backtest = Backtest(
        id=backtest_id,
        rule_id=rule_id,
        rule=documents.json_safe(document),
        since=since,
        until=until,
        status="queued",
        scanned=0,
        created_by=actor,
        created_at=utcnow(),
    )
    db.session.add(backtest)
    db.session.commit()
    return backtest_id


def get(backtest_id: str) -> Backtest:
    backtest = db.session.get(Backtest, backtest_id)
    if backtest is None:
        raise service.NotFound(f"No backtest {backtest_id!r}.")
    return backtest


def count_events(backtest: Backtest) -> int:
    rule = _compiled(backtest)
    query = _events_query(backtest, rule).with_only_columns(db.func.count())
    return db.session.scalar(query.order_by(None))


def _compiled(backtest: Backtest):
    doc = service.validate_document(backtest.rule)
    return compile_rule(doc, backtest.rule_id or "draft", 0, "draft")


def _events_query(backtest: Backtest, rule):
    query = db.select(ActivityEvent).where(
        ActivityEvent.status == "processed",
        ActivityEvent.received_at >= backtest.since,
        ActivityEvent.received_at < backtest.until,
    )
    counted = {c[0] for c in rule.counters} | {spec.event_type for spec, _ in rule.streaks}
    if rule.hold_flagged and current_app.config["VELOCITY_MAX_EVENTS_PER_DAY"]:
        counted.add(ALL_TYPES)  # the velocity check counts every event received
    if counted <= set(rule.event_types):  # no counter reads other types: only ours matter
        query = query.where(ActivityEvent.type.in_(rule.event_types))
    return query.order_by(ActivityEvent.received_at, ActivityEvent.id)


def run(backtest_id: str, progress=None) -> Backtest:
    """Scan the window in pages (keyset), evaluate, aggregate per day; commits progress."""
    backtest = get(backtest_id)
    backtest.status = "running"
    backtest.total = count_events(backtest)
    db.session.commit()
    try:
        with _old_objects_set_aside():
            report = _scan(backtest, progress)
    except Exception as error:
        db.session.rollback()
        backtest = get(backtest_id)
        backtest.status, backtest.error = "failed", f"{type(error).__name__}: {error}"
        backtest.finished_at = utcnow()
        db.session.commit()
        raise
    backtest = get(backtest_id)
    backtest.report = report
    backtest.status = "done"
    backtest.finished_at = utcnow()
    db.session.commit()
    return backtest


@contextmanager
def _old_objects_set_aside():
    """A scan makes millions of short-lived objects, so the garbage collector runs often,
    and each of its full passes would walk every object of the process (the app, SQLAlchemy's
    registries, the counters simulated so far): a fifth of a scan's time, and more as the
    counters grow. The objects that exist before the scan, and after each page, are set aside
    from collection while it runs (``gc.freeze``: refcounting still frees them; only cycles
    wait) and given back after."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _scan(backtest: Backtest, progress) -> dict:
    rule = _compiled(backtest)
    backtest_id = backtest.id  # the row is re-read after each page (expunged with the page)
    env = BacktestEnv(current_app.config, rule)
    days: dict = defaultdict(lambda: {"awards": 0, "held": 0, "points": 0, "members": set()})
    skipped: Counter = Counter()
    all_members: set[str] = set()
    scanned = 0
    after = None
    members: dict = {}  # read once per backtest, with the member's first event
    streaks = [spec for spec, _days in rule.streaks]
    listened = set(rule.event_types)
    counts_activity = env.counts_activity
    removable = db.and_(
        ActivityEvent.type.in_(sorted(REMOVED_BY)), ActivityEvent.object_key.is_not(None)
    )
    removed = db.case(
        (removable, intake.removal_arrived(ActivityEvent.object_key, set(REMOVALS))),
        else_=False,
    )
    base = (
        _events_query(backtest, rule)
        .with_only_columns(*EVALUATED, removed)
        .select_from(ActivityEvent)
        .outerjoin(Member, Member.id == ActivityEvent.member_id)
    )
    while True:
        query = base.limit(PAGE)
        if after is not None:
            query = query.where(
                (ActivityEvent.received_at > after[0])
                | ((ActivityEvent.received_at == after[0]) & (ActivityEvent.id > after[1]))
            )
        rows = db.session.connection().execute(query).all()  # plain rows: no ORM layer
        if not rows:
            break
        now = utcnow()
        events = []
        env.removed = set()  # this page's objects a removal has arrived for
        for row in rows:
            event = StoredEvent(row)
            events.append(event)
            if row[13]:
                env.removed.add(event.object_key)
            if event.member_id not in members:
                members[event.member_id] = _member(event.member_id, row, now)
        for event in events:
            member = members[event.member_id]
            facts = Facts(event, member, env)
            if counts_activity:
                env.count_activity(event, streaks, facts)
            if event.type not in listened:
                continue
            gone = event.type in REMOVED_BY and env.object_removed(event)
            decision = decide(rule, event, member, facts, env, gone)
            if decision.result in ("paid", "held"):
                day = days[facts.local_date(rule.tz)]
                day["held" if decision.result == "held" else "awards"] += 1
                day["points"] += decision.points
                day["members"].add(event.member_id)
                all_members.add(event.member_id)
            else:
                skipped[decision.code] += 1
        scanned += len(events)
        after = (events[-1].received_at, events[-1].id)
        backtest = get(backtest_id)
        backtest.scanned = scanned
        db.session.commit()
        if progress:
            progress(len(events))
        gc.freeze()  # this page's survivors too (counters, members): kept by refcounts alone
    per_day = [
        {
            "date": day.isoformat(),
            "members": len(v["members"]),
            "awards": v["awards"],
            "held": v["held"],
            "points": v["points"],
        }
        for day, v in sorted(days.items())
    ]
    return {
        "days": per_day,
        "totals": {
            "events": scanned,
            "members": len(all_members),
            "awards": sum(d["awards"] for d in per_day),
            "held": sum(d["held"] for d in per_day),
            "points": sum(d["points"] for d in per_day),
        },
        "not_paid": dict(skipped),
        "assumptions": (
            "evaluated alone (no exclusivity with other rules); limits and budgets counted "
            "from the start of the window; members' current attributes and consent"
        ),
    }


def _member(member_id: str, row, now) -> SimpleNamespace:
    """The member as evaluation reads it (plain values: the scan commits its progress after
    each page); a member never stored has no tier or attributes yet."""
    if row[9] is None:
        return SimpleNamespace(id=member_id, tier=None, attributes={}, created_at=now)
    return SimpleNamespace(
        id=member_id, tier=row[10], attributes=_json(row[11]) or {}, created_at=row[12]
    )
