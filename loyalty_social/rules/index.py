"""Rules listening to an event type, indexed by the value their first clause needs.

With a thousand active rules, ~140 listen to each event and nearly all of them fail on their
first clause (``member.attributes.segment eq 17``, ``data.network in [...]``). Evaluating each
one, and storing one "did not apply" record per rule per event, was most of the work of a
batch. The index looks the event's value up once per gated field and hands evaluation only
the rules whose first clause can hold; the others are **gated out**.

A gated-out rule's explanation is exact without being evaluated: its first clause failed on
the value seen. The event's outcome stores the values seen per gated field and the id of the
rule set (``RuleSet``: which rule versions were gated on which clause), and explanations
expand that on reading. A rule is gated out only when nothing earlier in the order of checks
would have explained it (already paid, an exclusive rule above it, a removed object, its
schedule or minimum evidence): evaluation checks those first (``evaluation.evaluate_event``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from .compiled import CompiledRule
from .vocabulary import MISSING


@dataclass(frozen=True)
class Selection:
    """What the index decided for one event."""

    gated_out: frozenset[str]  # rule ids whose first clause cannot hold
    seen: dict  # gated field -> value seen (stored with the outcome: "it was ...")
    # The rules still to go through evaluation, highest priority first: those not gated out,
    # and gated-out ones a schedule or minimum evidence may explain first.
    candidates: list[CompiledRule]


_UNINDEXED = object()  # a value the index cannot look up (a list, an object)
_MAX_SELECTIONS = 4096
_NONE: frozenset = frozenset()


@dataclass
class TypeIndex:
    """The active rules of one event type, highest priority first, and their gates."""

    rules: list[CompiledRule]
    # field -> value -> ids of the rules whose first clause accepts that value
    by_value: dict[str, dict] = field(default_factory=dict)
    # field -> ids of every rule gated on it
    by_field: dict[str, frozenset] = field(default_factory=dict)
    # the same values seen -> the same selection: computed once per combination of values
    selections: dict[tuple, Selection] = field(default_factory=dict)
    # every (event_type, period, days) counter the rules' conditions read
    counters: frozenset = frozenset()

    @classmethod
    def build(cls, rules: list[CompiledRule]) -> TypeIndex:
        index = cls(rules)
        by_field: dict[str, set] = {}
        for rule in rules:
            if rule.gate is None:
                continue
            path, _pointer, values = rule.gate
            by_field.setdefault(path, set()).add(rule.id)
            bucket = index.by_value.setdefault(path, {})
            for value in values:
                bucket.setdefault(value, set()).add(rule.id)
        index.by_field = {path: frozenset(ids) for path, ids in by_field.items()}
        index.counters = frozenset(c for rule in rules for c in rule.counters)
        return index

    def select(self, facts) -> Selection:
        """The rules this event's values rule out, and those left to evaluate."""
        key = []
        for path in self.by_field:
            actual = facts.get(path)
            # The type too: 1, 1.0 and True look up the same rules but read differently.
            indexed = actual is MISSING or _hashable(actual)
            key.append((type(actual), actual) if indexed else _UNINDEXED)
        key = tuple(key)
        selection = self.selections.get(key)
        if selection is None:
            if len(self.selections) >= _MAX_SELECTIONS:
                self.selections.clear()
            selection = self.selections[key] = self._select(key)
        return selection

    def _select(self, values: tuple) -> Selection:
        out: set[str] = set()
        seen: dict = {}
        for (path, ids), value in zip(self.by_field.items(), values, strict=True):
            if value is _UNINDEXED:
                continue  # lists (linked networks) and objects: evaluated rule by rule
            actual = value[1]
            matching = self.by_value[path].get(actual, _NONE) if actual is not MISSING else _NONE
            if len(matching) == len(ids):
                continue
            out |= ids - matching
            seen[path] = None if actual is MISSING else actual
        candidates = [
            rule
            for rule in self.rules
            if rule.id not in out
            or rule.starts_at is not None
            or rule.ends_at is not None
            or rule.min_rank > 0
        ]
        return Selection(frozenset(out), seen, candidates)


def _hashable(value) -> bool:
    return isinstance(value, str | int | float | bool) or value is None


@dataclass
class RuleSet:
    """Every active rule by event type, as one immutable, content-addressed snapshot."""

    by_type: dict[str, TypeIndex]
    id: str
    # What explanations need to expand gated-out rules: type -> [[rule, version, field, pointer]]
    gates: dict[str, list[list]]
    # event type -> the streaks an event of that type may count in (any rule's, whatever type
    # the rule listens to)
    counted_streaks: dict[str, tuple] = field(default_factory=dict)

    @classmethod
    def build(cls, by_type: dict[str, list[CompiledRule]]) -> RuleSet:
        gates = {
            event_type: [[r.id, r.version, r.gate[0], r.gate[1]] for r in rules if r.gate]
            for event_type, rules in sorted(by_type.items())
        }
        gates = {event_type: entries for event_type, entries in gates.items() if entries}
        digest = hashlib.sha256(json.dumps(gates, sort_keys=True).encode()).hexdigest()
        streaks: dict[str, dict] = {}
        for rules in by_type.values():
            for rule in rules:
                for spec, _days in rule.streaks:
                    streaks.setdefault(spec.event_type, {})[spec.scope] = spec
        return cls(
            {event_type: TypeIndex.build(rules) for event_type, rules in by_type.items()},
            f"rs_{digest[:32]}",
            gates,
            {event_type: tuple(specs.values()) for event_type, specs in streaks.items()},
        )

    def streaks(self, event_type: str) -> tuple:
        return self.counted_streaks.get(event_type, ())

    def rules(self, event_type: str) -> list[CompiledRule]:
        index = self.by_type.get(event_type)
        return index.rules if index is not None else []
