"""Deciding, for one event, what each listening rule pays and why (or why not).

Pure logic over an environment (``Env``) that supplies counters, consent, linked networks,
budgets and "already paid": processing gives it the batch's locked, preloaded state; preview
gives it read-only state; backtests give it a simulation. So the three can never disagree
about what a rule means.

Order of checks per rule (the first that fails is the explanation): already paid, stopped by
an exclusive rule, object removed, schedule, evidence, conditions, consent (targeted rules),
reward > 0, member limits (period, once per object, cooldown), the member's daily ceiling,
budgets (rule, campaign). Rules run by priority, highest first; an exclusive rule that pays
(or holds) stops the rules below it for that event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from ..intake.catalogue import evidence_rank
from ..timeutil import isoformat
from .conditions import (
    MISSING,
    Node,
    compile_tree,
    counters_used,
    fields_used,
    leading_equality,
)
from .limits import (
    GLOBAL,
    LIFE,
    CounterStore,
    Hit,
    PeriodLimit,
    day_key,
    frees_at,
    local_date,
    month_key,
    object_key,
    period_end,
    period_key,
    window_days,
)
from .payouts import RewardPlan

ALL_TYPES = "*"


@dataclass
class CompiledRule:
    """A rule ready to evaluate: conditions compiled, limits parsed, rewards planned."""

    id: str
    version: int
    name: str
    status: str
    event_types: tuple[str, ...]
    priority: int
    exclusive: bool
    campaign_id: str | None
    starts_at: datetime | None
    ends_at: datetime | None
    tz: str
    min_evidence: str
    condition: Node | None
    plan: RewardPlan
    period_limits: list[PeriodLimit]
    once_per: str | None
    cooldown: int | None
    budget_points: int | None
    budget_count: int | None
    targeted: bool
    hold_above: int | None
    hold_flagged: bool
    counters: set = field(default_factory=set)
    needs_linked: bool = False
    min_rank: int = 0
    # (field, pointer, values) of a first clause the rule index can look up (index.py)
    gate: tuple | None = None

    @property
    def scope(self) -> str:
        return f"r:{self.id}"

    @property
    def has_budget(self) -> bool:
        return self.budget_points is not None or self.budget_count is not None

    def limit_keys(self, member_id: str, event, facts) -> set[tuple[str, str, str]]:
        """Every counter cell the limits of this rule may read for this event."""
        if not (self.period_limits or self.once_per or self.cooldown):
            return set()
        day = facts.local_date(self.tz)
        keys = set()
        for limit in self.period_limits:
            keys.update((member_id, b, self.scope) for b in limit.buckets(day))
        if self.cooldown:
            keys.add((member_id, LIFE, self.scope))
        value = self.object_value(event, facts)
        if value is not None:
            keys.add((member_id, object_key(value), self.scope))
        return keys

    def object_value(self, event, facts):
        if not self.once_per:
            return None
        if self.once_per == "object":
            return event.object_key
        value = facts.get(self.once_per)
        return None if value is MISSING or value is None else value


def compile_rule(doc: dict, rule_id: str, version: int, status: str) -> CompiledRule:
    """Compile a rule document (the wire format of ``schemas.RuleSchema``, already valid)."""
    limits = doc.get("limits") or {}
    evidence = doc.get("evidence") or {}
    schedule = doc.get("schedule") or {}
    budget = doc.get("budget") or {}
    hold = doc.get("hold") or {}
    conditions = doc.get("conditions")
    condition = compile_tree(conditions)
    return CompiledRule(
        id=rule_id,
        version=version,
        name=doc["name"],
        status=status,
        event_types=tuple(doc["event_types"]),
        priority=doc.get("priority", 100),
        exclusive=bool(doc.get("exclusive")),
        campaign_id=doc.get("campaign_id"),
        starts_at=schedule.get("starts_at"),
        ends_at=schedule.get("ends_at"),
        tz=schedule.get("timezone") or "UTC",
        min_evidence=evidence.get("min") or "claimed",
        condition=condition,
        plan=RewardPlan(doc["rewards"], evidence.get("scale")),
        period_limits=[
            PeriodLimit(p["period"], p.get("days"), p.get("count"), p.get("points"))
            for p in limits.get("per_member") or []
        ],
        once_per=limits.get("once_per"),
        cooldown=limits.get("cooldown_seconds"),
        budget_points=budget.get("points"),
        budget_count=budget.get("count"),
        targeted=bool(doc.get("targeted")),
        hold_above=hold.get("above_points"),
        hold_flagged=bool(hold.get("flagged_members")),
        counters=counters_used(conditions),
        needs_linked="member.linked_networks" in fields_used(conditions),
        min_rank=evidence_rank(evidence.get("min") or "claimed"),
        gate=leading_equality(condition),
    )


# --- Facts: what conditions and formulas read --------------------------------------------


class Facts:
    """The event, the member and their counters, as condition fields."""

    __slots__ = ("days", "env", "event", "member", "values")

    def __init__(self, event, member, env: Env):
        self.event = event
        self.member = member
        self.env = env
        self.values: dict[str, Any] = {}  # a hundred rules read the same few fields
        self.days: dict[str, Any] = {}

    def local_date(self, tz: str):
        day = self.days.get(tz)
        if day is None:
            day = self.days[tz] = local_date(self.event.occurred_at, tz)
        return day

    def get(self, path: str) -> Any:
        try:
            return self.values[path]
        except KeyError:
            value = self.values[path] = self._get(path)
            return value

    def _get(self, path: str) -> Any:
        scope, _, rest = path.partition(".")
        if scope == "data":
            value: Any = self.event.data
            for part in rest.split("."):
                if not isinstance(value, dict) or part not in value:
                    return MISSING
                value = value[part]
            return value
        if scope == "member":
            return self._member(rest)
        if scope == "event":
            return self._event(rest)
        return MISSING

    def _member(self, name: str):
        member, attributes = self.member, (self.member.attributes or {})
        if name == "tier":
            return member.tier if member.tier is not None else MISSING
        if name == "linked_networks":
            return self.env.linked(member.id)
        if name in ("joined_at", "days_since_joined"):
            joined = attributes.get("joined_at") or isoformat(member.created_at)
            if name == "joined_at":
                return str(joined)[:10]
            try:
                at = datetime.fromisoformat(str(joined).replace("Z", "+00:00"))
            except ValueError:
                return MISSING
            if at.tzinfo is None:
                return MISSING
            return max(0, (self.event.occurred_at - at).days)
        if name.startswith("attributes."):
            value: Any = attributes
            for part in name.removeprefix("attributes.").split("."):
                if not isinstance(value, dict) or part not in value:
                    return MISSING
                value = value[part]
            return value
        return attributes.get(name, MISSING)

    def _event(self, name: str):
        event = self.event
        if name == "type":
            return event.type
        if name == "evidence":
            return event.evidence
        if name == "source":
            return event.source_name
        local = event.occurred_at.astimezone(_zone(self.env.program_tz))
        if name == "weekday":
            return local.isoweekday()
        if name == "hour":
            return local.hour
        return MISSING

    def counter(self, event_type: str, period: str, days: int | None) -> int:
        scope = f"t:{event_type}"
        day = local_date(self.event.occurred_at, self.env.program_tz)
        store = self.env.counters
        member_id = self.member.id
        if period in ("week", "rolling"):
            buckets = [day_key(d) for d in window_days(period, day, days)]
            return store.total(member_id, buckets, scope).count
        return store.get(member_id, period_key(period, day), scope).count


def _zone(name):
    from .limits import zone

    return zone(name)


# --- The environment ---------------------------------------------------------------------


class Env:
    """What evaluation may ask of the world. Subclasses: processing, preview, backtest."""

    def __init__(
        self,
        counters: CounterStore,
        program_tz: str = "UTC",
        ceiling: int = 0,
        velocity: int = 0,
        count_all: bool = False,
    ):
        self.counters = counters
        # Count every type together ("t:*") only when something reads it: saves a row a day.
        self.count_all = count_all or bool(velocity)
        self.program_tz = program_tz
        self.ceiling = ceiling
        self.velocity = velocity
        self._linked: dict[str, list[str]] = {}
        self._consent: dict[str, str | None] = {}

    # Overridden where the answer comes from the database.
    def awarded_rules(self, event_id: str) -> set[str] | frozenset:
        """Rules that already paid for this event (a replay): they are not decided again."""
        return frozenset()

    def object_removed(self, event) -> bool:
        return False

    def fetch_consent(self, member_id: str) -> str | None:
        return None

    def fetch_linked(self, member_id: str) -> list[str]:
        return []

    def take_budget(self, rule: CompiledRule, points: int) -> str | None:
        """Consume the rule's (and its campaign's) budget; words when exhausted."""
        return None

    # Cached per batch: one lookup per member, however many rules ask.
    def consent(self, member_id: str) -> str | None:
        if member_id not in self._consent:
            self._consent[member_id] = self.fetch_consent(member_id)
        return self._consent[member_id]

    def linked(self, member_id: str) -> list[str]:
        if member_id not in self._linked:
            self._linked[member_id] = self.fetch_linked(member_id)
        return self._linked[member_id]

    def flagged(self, member) -> bool:
        """Velocity check: more events today than VELOCITY_MAX_EVENTS_PER_DAY, or flagged
        by the backend (member attribute ``flagged``)."""
        return bool((member.attributes or {}).get("flagged"))

    def activity_keys(self, event, counters) -> set[tuple[str, str, str]]:
        """The counter cells this event's checks read: its rules' conditions (``counters``:
        the ``(event_type, period, days)`` they read), the velocity check and the daily points
        ceiling. The activity cells every event writes are increments: only those read are
        loaded."""
        day = local_date(event.occurred_at, self.program_tz)
        member_id = event.member_id
        keys = set()
        for event_type, period, days in counters:
            scope = f"t:{event_type}"
            if period in ("week", "rolling"):
                keys.update((member_id, day_key(d), scope) for d in window_days(period, day, days))
            else:
                keys.add((member_id, period_key(period, day), scope))
        if self.velocity:
            keys.add((member_id, day_key(day), f"t:{ALL_TYPES}"))
        if self.ceiling:
            keys.add((member_id, day_key(day), GLOBAL))
        return keys

    def activity_scopes(self, event) -> tuple[str, ...]:
        if self.count_all:
            return (f"t:{event.type}", f"t:{ALL_TYPES}")
        return (f"t:{event.type}",)

    def count_activity(self, event) -> None:
        """Count the event in the member's activity counters (before rules read them)."""
        day = local_date(event.occurred_at, self.program_tz)
        for scope in self.activity_scopes(event):
            for bucket in (day_key(day), month_key(day), LIFE):
                self.counters.add(event.member_id, bucket, scope, 1, 0, event.occurred_at)

    def velocity_exceeded(self, event) -> bool:
        if not self.velocity:
            return False
        day = local_date(event.occurred_at, self.program_tz)
        cell = self.counters.get(event.member_id, day_key(day), f"t:{ALL_TYPES}")
        return cell.count > self.velocity


# --- Decisions ---------------------------------------------------------------------------


class Decision:
    """One rule's verdict on one event, in data (for the record) and words (for people).

    A plain class with slots: a batch makes one per listening rule per event (hundreds of
    thousands a minute), so construction cost matters."""

    __slots__ = (
        "code",
        "consent_ref",
        "failure",
        "frees_at",
        "limit_keys",
        "offers",
        "points",
        "reason",
        "result",
        "rule",
        "steps",
    )

    def __init__(
        self,
        rule: CompiledRule,
        result: str,  # paid | held | skipped | duplicate
        code: str,
        reason: str,
        points: int = 0,
        offers: list | None = None,
        steps: list | None = None,
        failure: dict | None = None,
        frees_at: datetime | None = None,
        consent_ref: str | None = None,
        limit_keys: list | None = None,
    ):
        self.rule = rule
        self.result = result
        self.code = code
        self.reason = reason
        self.points = points
        self.offers = offers or []
        self.steps = steps or []
        self.failure = failure
        self.frees_at = frees_at
        self.consent_ref = consent_ref
        self.limit_keys = limit_keys or []

    @property
    def stops_lower(self) -> bool:
        return self.rule.exclusive and self.result in ("paid", "held", "duplicate")

    def explanation(self) -> dict:
        record = {
            "rule_id": self.rule.id,
            "rule_version": self.rule.version,
            "result": self.result,
            "code": self.code,
            "reason": self.reason,
        }
        if self.points:
            record["points"] = self.points
        if self.offers:
            record["offers"] = self.offers
        if self.failure:
            record["failure"] = self.failure
        if self.frees_at:
            record["frees_at"] = isoformat(self.frees_at)
        return record


def _skip(rule, code, reason, **extra) -> Decision:
    return Decision(rule, "skipped", code, reason, **extra)


def evaluate_event(
    event,
    member,
    rules: list[CompiledRule],
    env: Env,
    precheck: dict | None = None,
    facts: Facts | None = None,
    selection=None,
) -> tuple[list[Decision], list[list]]:
    """Decide every listening rule for one event, consuming limits as awards are decided.

    Returns the decisions, and the rules whose conditions did not match as compact records
    ``[rule_id, rule_version, clause, value seen]`` (stored as data and put into words only
    when someone asks). ``selection`` (``index.Selection``): rules gated out by the rule index
    get no record at all when nothing earlier in the order of checks applies to them (the
    outcome records the values seen once for all of them), and only its candidates are visited
    unless the event is a replay or its object was removed.
    """
    facts = facts or Facts(event, member, env)
    decisions: list[Decision] = []
    not_matched: list[list] = []
    stopped_by: CompiledRule | None = None
    awarded = env.awarded_rules(event.id)
    removed = env.object_removed(event)
    gated_out = selection.gated_out if selection is not None else frozenset()
    visit_all = selection is None or bool(awarded) or removed
    rank = evidence_rank(event.evidence)
    at = event.occurred_at
    for rule in rules if visit_all else selection.candidates:
        if rule.id in awarded:
            decision = Decision(rule, "duplicate", "duplicate", "already awarded")
        elif stopped_by is not None:
            decision = _stopped(rule, stopped_by)
        else:
            if (
                not removed
                and rank >= rule.min_rank
                and (rule.starts_at is None or at >= rule.starts_at)
                and (rule.ends_at is None or at < rule.ends_at)
            ):
                # The conditions are the explanation: recorded as data, not as a decision.
                if rule.id in gated_out:
                    continue
                failed = precheck.get(rule.id) if precheck else None
                if failed is not None:
                    actual = None if failed.actual is MISSING else failed.actual
                    not_matched.append([rule.id, rule.version, failed.path, actual])
                    continue
            decision = decide(rule, event, member, facts, env, removed, precheck)
        decisions.append(decision)
        if decision.stops_lower and stopped_by is None:
            stopped_by = rule
    if stopped_by is not None and not visit_all:
        # Gated-out rules below an exclusive rule that paid were not visited: it stopped them.
        visited = {d.rule.id for d in decisions}
        below = rules[rules.index(stopped_by) + 1 :]
        decisions += [_stopped(r, stopped_by) for r in below if r.id not in visited]
    return decisions, not_matched


def _stopped(rule: CompiledRule, by: CompiledRule) -> Decision:
    return _skip(
        rule,
        "exclusive",
        f"the exclusive rule {by.name!r} (priority {by.priority}) already rewarded this activity",
    )


NOT_CHECKED = object()


def decide(
    rule, event, member, facts, env: Env, removed: bool = False, precheck: dict | None = None
) -> Decision:
    """One rule's verdict. ``precheck``: rule id -> condition result computed earlier in the
    batch (the batch loads counters only for rules whose conditions held)."""
    if removed:
        return _skip(rule, "removed", "the object was removed before it could be rewarded")
    at = event.occurred_at
    if rule.starts_at and at < rule.starts_at:
        return _skip(
            rule,
            "schedule",
            f"the rule starts at {isoformat(rule.starts_at)}; the activity was earlier",
        )
    if rule.ends_at and at >= rule.ends_at:
        return _skip(
            rule, "schedule", f"the rule ended at {isoformat(rule.ends_at)}; the activity was later"
        )
    if evidence_rank(event.evidence) < evidence_rank(rule.min_evidence):
        return _skip(
            rule,
            "evidence",
            f"evidence '{event.evidence}' is below the rule's '{rule.min_evidence}'",
        )
    if rule.condition is not None:
        failed = precheck.get(rule.id, NOT_CHECKED) if precheck else NOT_CHECKED
        if failed is NOT_CHECKED:
            failed = rule.condition.failure(facts)
        if failed is not None:
            # Data only: the words are made when someone reads the explanation.
            return _skip(
                rule, "condition", f"condition {failed.path} failed", failure=failed.as_dict()
            )
    consent_ref = None
    if rule.targeted:
        consent_ref = env.consent(member.id)
        if consent_ref is None:
            return _skip(
                rule,
                "consent",
                "this is a targeted reward and the member has not consented to targeted rewards",
            )
    payout = rule.plan.compute(facts, event.evidence)
    if payout.points <= 0 and not payout.offers:
        return _skip(rule, "zero", "the reward works out to 0 points", steps=payout.steps)
    env.counters.load(rule.limit_keys(member.id, event, facts))  # no-op when preloaded
    hit = check_limits(rule, event, member.id, facts, env, payout.points)
    if hit is not None:
        return _skip(
            rule,
            hit.code,
            f"{hit.limit} reached: {hit.words}",
            frees_at=hit.frees_at,
            steps=payout.steps,
        )
    exhausted = env.take_budget(rule, payout.points)
    if exhausted:
        return _skip(rule, "budget", exhausted, steps=payout.steps)
    keys = consume_limits(rule, event, member.id, facts, env, payout.points)
    held = _hold_reason(rule, payout.points, member, event, env)
    result = "held" if held else "paid"
    reason = held or f"paid {payout.points} points" + (
        f" and {len(payout.offers)} offer(s)" if payout.offers else ""
    )
    return Decision(
        rule,
        result,
        result,
        reason,
        points=payout.points,
        offers=payout.offers,
        steps=payout.steps,
        consent_ref=consent_ref,
        limit_keys=keys,
    )


def _hold_reason(rule, points, member, event, env) -> str | None:
    if rule.hold_above is not None and points > rule.hold_above:
        return (
            f"held for review: {points} points is above the rule's threshold of {rule.hold_above}"
        )
    if rule.hold_flagged and (env.flagged(member) or env.velocity_exceeded(event)):
        return "held for review: the member is flagged by the velocity check"
    return None


def check_limits(rule, event, member_id, facts, env: Env, points: int) -> Hit | None:
    store = env.counters
    scope = rule.scope
    day = local_date(event.occurred_at, rule.tz)
    for limit in rule.period_limits:
        for window in limit.windows(day):
            cell = store.total(member_id, window, scope)
            over_count = limit.count is not None and cell.count + 1 > limit.count
            over_points = limit.points is not None and cell.points + points > limit.points
            if over_count or over_points:
                break
        if over_count or over_points:
            when = frees_at(limit, store, member_id, scope, day, rule.tz)
            used = (
                f"{cell.count} award(s) so far"
                if over_count
                else f"{cell.points} points so far, this would add {points}"
            )
            words = f"{used}; " + (
                f"frees up at {isoformat(when)}" if when else "it does not free up"
            )
            return Hit("limit", f"the limit of {limit.describe()}", words, when)
    if rule.once_per:
        value = rule.object_value(event, facts)
        if value is None:
            return Hit("limit", "once per object", "the activity names no object", None)
        if store.get(member_id, object_key(value), scope).count:
            what = "object" if rule.once_per == "object" else rule.once_per.split(".")[-1]
            return Hit(
                "limit",
                "once per object",
                f"this {what} ({value}) was already rewarded; it does not free up",
                None,
            )
    if rule.cooldown:
        last = store.get(member_id, LIFE, scope).last_at
        if last is not None and event.occurred_at < last + timedelta(seconds=rule.cooldown):
            when = last + timedelta(seconds=rule.cooldown)
            return Hit(
                "limit",
                f"the cooldown of {rule.cooldown} seconds",
                f"last award at {isoformat(last)}; frees up at {isoformat(when)}",
                when,
            )
    if env.ceiling:
        gday = local_date(event.occurred_at, env.program_tz)
        cell = store.get(member_id, day_key(gday), GLOBAL)
        if cell.points + points > env.ceiling:
            when = period_end("day", gday, env.program_tz)
            return Hit(
                "ceiling",
                f"the daily ceiling of {env.ceiling} points across all rules",
                f"{cell.points} points today, this would add {points}; "
                f"frees up at {isoformat(when)}",
                when,
            )
    return None


def consume_limits(rule, event, member_id, facts, env: Env, points: int) -> list:
    """Count the award in every cell its limits read; returns the cells (to release later)."""
    store = env.counters
    scope = rule.scope
    day = local_date(event.occurred_at, rule.tz)
    buckets = set()
    for limit in rule.period_limits:
        buckets.add(day_key(day) if limit.period == "rolling" else period_key(limit.period, day))
    if rule.cooldown:
        buckets.add(LIFE)
    value = rule.object_value(event, facts)
    if value is not None:
        buckets.add(object_key(value))
    keys = [[member_id, b, scope] for b in sorted(buckets)]
    if env.ceiling:
        keys.append([member_id, day_key(local_date(event.occurred_at, env.program_tz)), GLOBAL])
    for m, b, s in keys:
        store.add(m, b, s, 1, points, event.occurred_at)
    return keys


def sample_event(
    event_type: str,
    data: dict,
    member_id: str,
    occurred_at: datetime,
    evidence: str = "claimed",
    source: str = "preview",
    object_key_value: str | None = None,
) -> SimpleNamespace:
    """An unsaved event for previews."""
    return SimpleNamespace(
        id="preview",
        type=event_type,
        member_id=member_id,
        occurred_at=occurred_at,
        evidence=evidence,
        source_name=source,
        object_key=object_key_value,
        data=data,
        outcome=None,
    )
