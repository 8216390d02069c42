"""Backtest: a draft or changed rule over the stored events of a past period, paying nothing.

The rule is evaluated alone (other rules' exclusivity is not simulated), with counters and
budgets simulated from zero at ``since`` (limits reached before the window are not seen), the
members' current attributes and consent, and the real "object removed" facts. The report is
per day in the rule's time zone: members, awards, held awards and points cost.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from types import SimpleNamespace

from flask import current_app

from ..extensions import db
from ..identity.models import Member
from ..ids import new_id
from ..intake import service as intake
from ..intake.models import ActivityEvent
from ..timeutil import utcnow
from . import documents, service
from .compiled import compile_rule
from .evaluation import decide
from .facts import Facts
from .limits import DryCounterStore, local_date
from .models import Backtest
from .processing import REMOVALS, REMOVED_BY, ProcessingEnv

PAGE = 5000
EVALUATED = (
    ActivityEvent.id,
    ActivityEvent.type,
    ActivityEvent.member_id,
    ActivityEvent.occurred_at,
    ActivityEvent.received_at,
    ActivityEvent.evidence,
    ActivityEvent.source_name,
    ActivityEvent.object_key,
    ActivityEvent.data,
    ActivityEvent.attempts,
    ActivityEvent.status,
)


class BacktestEnv(ProcessingEnv):
    """Simulated budgets; everything else as processing sees it, without writing."""

    def __init__(self, config, rule):
        super().__init__(DryCounterStore(), set(), config, count_all=True)
        self.spent = {"rule": [0, 0], "campaign": [0, 0]}
        self.rule = rule
        self.campaign = service.get_campaign(rule.campaign_id) if rule.campaign_id else None

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


def _scan(backtest: Backtest, progress) -> dict:
    rule = _compiled(backtest)
    backtest_id = backtest.id  # the row is re-read after each page (expunged with the page)
    env = BacktestEnv(current_app.config, rule)
    days: dict[str, dict] = defaultdict(
        lambda: {"awards": 0, "held": 0, "points": 0, "members": set()}
    )
    skipped: Counter = Counter()
    all_members: set[str] = set()
    scanned = 0
    after = None
    known_members: dict = {}
    # Plain rows of what evaluation reads (as processing claims them), not ORM objects: no
    # identity map, and the outcome (the biggest column) stays in the database.
    base = _events_query(backtest, rule).with_only_columns(*EVALUATED)
    while True:
        query = base.limit(PAGE)
        if after is not None:
            query = query.where(
                (ActivityEvent.received_at > after[0])
                | ((ActivityEvent.received_at == after[0]) & (ActivityEvent.id > after[1]))
            )
        events = [
            SimpleNamespace(**row._mapping, outcome=None) for row in db.session.execute(query)
        ]
        if not events:
            break
        members = _members({e.member_id for e in events}, known_members)
        # "Was this object removed?" for the whole page in one query, not one per event.
        removable = {e.object_key for e in events if e.type in REMOVED_BY and e.object_key}
        env.removed = intake.removed_objects(removable, set(REMOVALS))
        keys = set()
        for event in events:
            keys |= env.activity_keys(event, rule.counters)
        env.counters.load(keys)
        streaks = [spec for spec, _days in rule.streaks]
        for event in events:
            member = members[event.member_id]
            facts = Facts(event, member, env)
            env.count_activity(event, streaks, facts)
            if event.type not in rule.event_types:
                continue
            removed = event.type in REMOVED_BY and env.object_removed(event)
            decision = decide(rule, event, member, facts, env, removed)
            if decision.result in ("paid", "held"):
                day = days[local_date(event.occurred_at, rule.tz).isoformat()]
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
    per_day = [
        {
            "date": day,
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


def _members(ids: set[str], known: dict) -> dict:
    """The members of a page: read once per backtest (plain values, not ORM rows: the scan
    commits its progress and drops the page's rows after each page)."""
    wanted = ids - known.keys()
    if wanted:
        columns = (Member.id, Member.tier, Member.attributes, Member.created_at)
        query = db.select(*columns).where(Member.id.in_(wanted))
        for member_id, tier, attributes, created_at in db.session.execute(query):
            known[member_id] = SimpleNamespace(
                id=member_id, tier=tier, attributes=attributes or {}, created_at=created_at
            )
        now = utcnow()
        for member_id in wanted - known.keys():
            known[member_id] = SimpleNamespace(
                id=member_id, tier=None, attributes={}, created_at=now
            )
    return known
