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

from .conditions import MISSING
from .evaluation import CompiledRule


@dataclass
class TypeIndex:
    """The active rules of one event type, highest priority first, and their gates."""

    rules: list[CompiledRule]
    # field -> value -> rules whose first clause accepts that value
    by_value: dict[str, dict] = field(default_factory=dict)
    # field -> every rule gated on it
    by_field: dict[str, list[CompiledRule]] = field(default_factory=dict)

    @classmethod
    def build(cls, rules: list[CompiledRule]) -> TypeIndex:
        index = cls(rules)
        for rule in rules:
            if rule.gate is None:
                continue
            path, _pointer, values = rule.gate
            index.by_field.setdefault(path, []).append(rule)
            bucket = index.by_value.setdefault(path, {})
            for value in dict.fromkeys(values):  # `in [1, 1]` lists a rule once
                bucket.setdefault(value, []).append(rule)
        return index

    def gated_out(self, facts) -> tuple[set[str], dict]:
        """Ids of rules whose first clause cannot hold for these facts, and the values seen
        per gated field (stored with the outcome: the explanations' "it was ...")."""
        out: set[str] = set()
        seen: dict = {}
        for path, rules in self.by_field.items():
            actual = facts.get(path)
            if actual is not MISSING and not _hashable(actual):
                continue  # lists (linked networks) and objects: evaluated rule by rule
            matching = self.by_value[path].get(actual, ()) if actual is not MISSING else ()
            if len(matching) == len(rules):
                continue
            keep = {rule.id for rule in matching}
            out.update(rule.id for rule in rules if rule.id not in keep)
            seen[path] = None if actual is MISSING else actual
        return out, seen


def _hashable(value) -> bool:
    return isinstance(value, str | int | float | bool) or value is None


@dataclass
class RuleSet:
    """Every active rule by event type, as one immutable, content-addressed snapshot."""

    by_type: dict[str, TypeIndex]
    id: str
    # What explanations need to expand gated-out rules: type -> [[rule, version, field, pointer]]
    gates: dict[str, list[list]]

    @classmethod
    def build(cls, by_type: dict[str, list[CompiledRule]]) -> RuleSet:
        gates = {
            event_type: [[r.id, r.version, r.gate[0], r.gate[1]] for r in rules if r.gate]
            for event_type, rules in sorted(by_type.items())
        }
        gates = {event_type: entries for event_type, entries in gates.items() if entries}
        digest = hashlib.sha256(json.dumps(gates, sort_keys=True).encode()).hexdigest()
        return cls(
            {event_type: TypeIndex.build(rules) for event_type, rules in by_type.items()},
            f"rs_{digest[:32]}",
            gates,
        )

    def rules(self, event_type: str) -> list[CompiledRule]:
        index = self.by_type.get(event_type)
        return index.rules if index is not None else []
