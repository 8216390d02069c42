"""Streaks: "a qualifying activity on N days in a row", evaluated from daily counters.

A streak clause, e.g. ``{"streak": {"event_type": "community.milestone", "days": 7, "where":
[{"field": "data.value", "op": "ge", "value": 8000}]}}``, holds for the one event that
completes a run of ``days`` consecutive qualifying days (in the rule's time zone): once per
streak. A day with several qualifying events counts once; a gap starts the run again.

Every qualifying event increments one counter cell per day (scope ``k:<digest of event type,
where, time zone>``: rules with the same predicate share it), counted by processing before
rules read it, like the activity counters. The clause reads the ``days`` cells before and after
the event's day (O(days), whatever the member's history): the event completes a streak when it
is its day's first qualifying event and the run through its day reaches ``days`` while neither
side on its own already did. Reading forward too keeps "once per streak" true for an event
that arrives late and fills a gap.

Counting starts when a rule with the streak is active (history before it is not replayed);
backtests simulate the counters from the start of their window like every other counter.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta

from .limits import day_key
from .operators import OPERATORS, Failure, Node, _show
from .vocabulary import MAX_ROLLING_DAYS, is_int, validate_field

MAX_STREAK_DAYS = MAX_ROLLING_DAYS
MAX_WHERE = 10


class StreakSpec:
    """What qualifies (event type and field clauses) and where the days are counted."""

    __slots__ = ("event_type", "scope", "tz", "where", "where_nodes")

    def __init__(self, event_type: str, where: list, tz: str, where_nodes):
        self.event_type = event_type
        self.where = where
        self.tz = tz
        self.where_nodes = where_nodes
        canonical = json.dumps([event_type, where, tz], sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha1(canonical.encode(), usedforsecurity=False).hexdigest()
        self.scope = f"k:{digest[:32]}"

    def __eq__(self, other):
        return isinstance(other, StreakSpec) and other.scope == self.scope

    def __hash__(self):
        return hash(self.scope)

    def day(self, facts) -> date:
        return facts.local_date(self.tz)

    def qualifies(self, facts) -> bool:
        if facts.event.type != self.event_type:
            return False
        return all(node.failure(facts) is None for node in self.where_nodes)

    def keys(self, member_id: str, day: date, days: int) -> set[tuple[str, str, str]]:
        """The cells a clause of ``days`` reads around ``day`` (and the one counting writes)."""
        return {
            (member_id, day_key(day + timedelta(days=k)), self.scope)
            for k in range(-days, days + 1)
        }

    def count(self, facts, counters) -> None:
        """Count a qualifying event in its day's cell (processing: before rules read it)."""
        if self.qualifies(facts):
            event = facts.event
            counters.add(event.member_id, day_key(self.day(facts)), self.scope, 1, 0, None)

    def describe_where(self) -> str:
        return " and ".join(node.describe() for node in self.where_nodes)

    def words_where(self) -> str:
        parts = [node.words(_Unseen) for node in self.where_nodes]
        return " and ".join(p.split(" (", 1)[0].replace(" must be ", " is ") for p in parts)


class _Unseen:
    """Stands for "no value seen": the clause words without the "(it was ...)" part."""


class Streak(Node):
    """The event completes a run of ``days`` consecutive qualifying days."""

    __slots__ = ("days", "spec")

    def __init__(self, clause: dict, path: str, tz: str, compile_where):
        self.path = path
        spec = clause["streak"]
        self.days = int(spec["days"])
        where = list(spec.get("where") or [])
        nodes = [compile_where(c, f"{path}/streak/where/{i}") for i, c in enumerate(where)]
        self.spec = StreakSpec(spec["event_type"], where, tz, nodes)

    def run(self, facts) -> tuple[bool, int]:
        """(this event completes the streak, the day of the run it is on)."""
        store = facts.env.counters
        member_id = facts.member.id
        day = self.spec.day(facts)
        scope = self.spec.scope

        def qualified(offset: int) -> bool:
            cell = store.get(member_id, day_key(day + timedelta(days=offset)), scope)
            return cell.count > 0

        today = store.get(member_id, day_key(day), scope).count
        back = 0
        while back < self.days and qualified(-(back + 1)):
            back += 1
        if not today:
            return False, back
        forward = 0
        while forward < self.days and qualified(forward + 1):
            forward += 1
        first = today == 1 and self.spec.qualifies(facts)
        completes = first and back < self.days and forward < self.days
        return completes and back + 1 + forward >= self.days, back + 1

    def failure(self, facts):
        completes, reached = self.run(facts)
        return None if completes else Failure(self.path, self, reached)

    def describe(self) -> str:
        where = f" where {self.spec.describe_where()}" if self.spec.where_nodes else ""
        return f"streak({self.spec.event_type}{where}, {self.days} days in a row)"

    def label(self) -> str:
        where = f" whose {self.spec.words_where()}" if self.spec.where_nodes else ""
        return f"a '{self.spec.event_type}'{where} on {self.days} days in a row"

    def words(self, actual) -> str:
        day = actual if is_int(actual) else 0
        if day >= self.days:
            return f"{self.label()}: this streak was already rewarded (day {_show(day)})"
        return f"{self.label()}: day {_show(day)} of {self.days}"

    def trace(self, facts):
        completes, reached = self.run(facts)
        return {
            "clause": self.path,
            "expected": self.describe(),
            "actual": reached,
            "result": completes,
        }


def validate_streak(clause: dict, pointer: str, known_types, data_fields, errors) -> None:
    if set(clause) != {"streak"}:
        errors.setdefault(pointer, []).append("'streak' must be the clause's only key")
        return
    spec = clause["streak"]
    pointer += "/streak"
    if not isinstance(spec, dict):
        errors.setdefault(pointer, []).append("streak must be an object")
        return
    extra = set(spec) - {"event_type", "days", "where"}
    if extra:
        errors.setdefault(pointer, []).append(f"unknown streak keys: {', '.join(sorted(extra))}")
    event_type = spec.get("event_type")
    if not isinstance(event_type, str) or event_type not in known_types:
        errors.setdefault(pointer + "/event_type", []).append(f"unknown event type {event_type!r}")
    days = spec.get("days")
    if not is_int(days) or not 2 <= days <= MAX_STREAK_DAYS:
        errors.setdefault(pointer + "/days", []).append(
            f"days must be a whole number between 2 and {MAX_STREAK_DAYS}"
        )
    where = spec.get("where", [])
    if not isinstance(where, list) or len(where) > MAX_WHERE:
        errors.setdefault(pointer + "/where", []).append(
            f"where must be a list of at most {MAX_WHERE} clauses on fields"
        )
        return
    for index, item in enumerate(where):
        at = f"{pointer}/where/{index}"
        if not isinstance(item, dict) or "field" not in item or "counter" in item:
            errors.setdefault(at, []).append("a clause on a field: {field, op, value}")
            continue
        extra = set(item) - {"field", "op", "value"}
        if extra:
            errors.setdefault(at, []).append(f"unknown keys: {', '.join(sorted(extra))}")
        validate_field(item["field"], at + "/field", data_fields, errors)
        op = item.get("op")
        if not isinstance(op, str) or op not in OPERATORS:
            errors.setdefault(at + "/op", []).append(f"unknown operator {op!r}")
            continue
        if "value" not in item and op != "exists":
            errors.setdefault(at + "/value", []).append("missing")
            continue
        OPERATORS[op].validate(item, at, errors)
