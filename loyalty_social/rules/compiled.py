"""A rule ready to evaluate: its document compiled once (conditions to nodes, limits parsed,
rewards planned), and what the rule index and the batch's preloading read from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..intake.catalogue import evidence_rank
from .conditions import (
    Node,
    compile_tree,
    counters_used,
    fields_used,
    leading_equality,
    streaks_used,
)
from .limits import (
    LIFE,
    PeriodLimit,
    object_key,
)
from .payouts import RewardPlan
from .vocabulary import MISSING

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
    needs_level: bool = False
    min_rank: int = 0
    # (field, pointer, values) of a first clause the rule index can look up (index.py)
    gate: tuple | None = None
    # (spec, days) of every streak clause: the day cells its conditions read
    streaks: tuple = ()

    @property
    def reads_counters(self) -> bool:
        """Its conditions read counters, so they are evaluated once those are loaded."""
        return bool(self.counters or self.streaks)

    def streak_keys(self, member_id: str, facts) -> set[tuple[str, str, str]]:
        keys = set()
        for spec, days in self.streaks:
            keys |= spec.keys(member_id, spec.day(facts), days)
        return keys

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
    tz = schedule.get("timezone") or "UTC"
    condition = compile_tree(conditions, tz=tz)
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
        tz=tz,
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
        needs_level="member.advocate_level" in fields_used(conditions),
        min_rank=evidence_rank(evidence.get("min") or "claimed"),
        gate=leading_equality(condition),
        streaks=tuple((node.spec, node.days) for node in streaks_used(condition)),
    )
