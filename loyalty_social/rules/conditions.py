"""Conditions: JSON trees validated on save, compiled once, evaluated without ``eval``.

A condition is data, e.g. ``{"all": [{"field": "data.rating", "op": "ge", "value": 4},
{"counter": {"event_type": "review.published", "period": "month"}, "op": "eq", "value": 3}]}``.
``operators.OPERATORS`` is the registry of condition kinds (name -> class, like CTFd's
challenge types): each class knows how to validate its clause, compile it to a node, and
describe it in words; this module holds the combinators (all/any/not) and walks the tree
(validate, compile, the counters and fields it reads). Errors point at
the offending clause with a JSON pointer (``/conditions/all/1/value``), so a marketer's
console can highlight it.

Compiled nodes answer ``failure(facts)``: None when the clause holds, else the deepest clause
that failed with the value seen, which is what explanations store. ``trace(facts)`` evaluates
every clause (preview), not just up to the first failure.
"""

from __future__ import annotations

from .operators import OPERATORS, Comparison, Failure, Node
from .streaks import Streak, validate_streak
from .vocabulary import (
    EVENT_FIELDS,
    MAX_CLAUSES,
    MAX_DEPTH,
    MAX_LIST,
    MAX_ROLLING_DAYS,
    MEMBER_FIELDS,
    MISSING,
    PERIODS,
    counter_days,
    is_int,
    is_number,
    validate_counter,
    validate_field,
)

# Names other modules read from here (the OpenAPI schemas among them).
_validate_field = validate_field
_is_int = is_int
_is_number = is_number
__all__ = [
    "COMBINATORS",
    "EVENT_FIELDS",
    "MAX_ROLLING_DAYS",
    "MEMBER_FIELDS",
    "MISSING",
    "OPERATORS",
    "PERIODS",
    "All",
    "Any_",
    "ConditionErrors",
    "Failure",
    "Node",
    "Not",
    "compile_tree",
    "counters_used",
    "fields_used",
    "find",
    "leading_equality",
    "streaks_used",
    "validate",
]


class ConditionErrors(Exception):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


# --- Combinators -------------------------------------------------------------------------


class All(Node):
    """Every clause holds (an empty list holds)."""

    __slots__ = ("children",)
    key = "all"

    def __init__(self, children, path):
        self.path = path
        self.children = children

    def failure(self, facts):
        for child in self.children:
            failed = child.failure(facts)
            if failed is not None:
                return failed
        return None

    def trace(self, facts):
        children = [child.trace(facts) for child in self.children]
        return {
            "clause": self.path,
            "expected": "all of",
            "result": all(c["result"] for c in children),
            "children": children,
        }


class Any_(Node):
    """At least one clause holds (an empty list fails)."""

    __slots__ = ("children",)
    key = "any"

    def __init__(self, children, path):
        self.path = path
        self.children = children

    def failure(self, facts):
        first = None
        for child in self.children:
            failed = child.failure(facts)
            if failed is None:
                return None
            first = first or failed
        words = "none of the alternatives held"
        if first is not None:
            words += f", e.g. {first.words}"
        return Failure(self.path, self, MISSING, "any of", words)

    def trace(self, facts):
        children = [child.trace(facts) for child in self.children]
        return {
            "clause": self.path,
            "expected": "any of",
            "result": any(c["result"] for c in children),
            "children": children,
        }


class Not(Node):
    __slots__ = ("child",)
    key = "not"

    def __init__(self, child, path):
        self.path = path
        self.child = child

    def failure(self, facts):
        if self.child.failure(facts) is not None:
            return None
        inner = self.child.trace(facts)
        return Failure(
            self.path,
            self,
            inner.get("actual", MISSING),
            f"not ({inner.get('expected')})",
            f"this must not hold: {inner.get('expected')}",
        )

    def trace(self, facts):
        inner = self.child.trace(facts)
        return {
            "clause": self.path,
            "expected": "not",
            "result": not inner["result"],
            "children": [inner],
        }


COMBINATORS = {"all": All, "any": Any_, "not": Not}


# --- Validation and compilation ----------------------------------------------------------


def validate(
    tree, pointer: str = "/conditions", known_types=(), data_fields: set[str] | None = None
) -> dict[str, list[str]]:
    """Every problem in the tree, keyed by JSON pointer; empty when the tree is valid."""
    errors: dict[str, list[str]] = {}
    count = [0]
    _validate(tree, pointer, 0, set(known_types), data_fields, errors, count)
    return errors


def _validate(clause, pointer, depth, known_types, data_fields, errors, count) -> None:
    count[0] += 1
    if count[0] > MAX_CLAUSES:
        if count[0] == MAX_CLAUSES + 1:
            errors.setdefault(pointer, []).append(f"more than {MAX_CLAUSES} clauses")
        return
    if depth > MAX_DEPTH:
        errors.setdefault(pointer, []).append(f"nested deeper than {MAX_DEPTH} levels")
        return
    if not isinstance(clause, dict):
        errors.setdefault(pointer, []).append("a clause must be an object")
        return
    combinators = [k for k in COMBINATORS if k in clause]
    if combinators:
        key = combinators[0]
        if len(clause) != 1:
            errors.setdefault(pointer, []).append(f"'{key}' must be the clause's only key")
            return
        inner = clause[key]
        if key == "not":
            _validate(inner, f"{pointer}/not", depth + 1, known_types, data_fields, errors, count)
            return
        if not isinstance(inner, list):
            errors.setdefault(f"{pointer}/{key}", []).append("must be a list of clauses")
            return
        if len(inner) > MAX_LIST:
            errors.setdefault(f"{pointer}/{key}", []).append(f"at most {MAX_LIST} clauses")
            return
        for index, child in enumerate(inner):
            child_pointer = f"{pointer}/{key}/{index}"
            _validate(child, child_pointer, depth + 1, known_types, data_fields, errors, count)
        return
    if "streak" in clause:
        validate_streak(clause, pointer, known_types, data_fields, errors)
        return
    op = clause.get("op")
    if not isinstance(op, str) or op not in OPERATORS:
        errors.setdefault(pointer + "/op", []).append(
            f"unknown operator {op!r}; one of {', '.join(OPERATORS)} "
            "(or a clause 'all', 'any', 'not', 'streak')"
        )
        return
    allowed = {"op", "value", "field", "counter"}
    extra = set(clause) - allowed
    if extra:
        errors.setdefault(pointer, []).append(f"unknown keys: {', '.join(sorted(extra))}")
    if ("field" in clause) == ("counter" in clause):
        errors.setdefault(pointer, []).append("give exactly one of 'field' or 'counter'")
    elif "field" in clause:
        validate_field(clause["field"], pointer + "/field", data_fields, errors)
    else:
        validate_counter(clause["counter"], pointer + "/counter", known_types, errors)
    if "value" not in clause and op != "exists":
        errors.setdefault(pointer + "/value", []).append("missing")
        return
    OPERATORS[op].validate(clause, pointer, errors)


def compile_tree(tree, pointer: str = "/conditions", tz: str = "UTC") -> Node | None:
    """A validated tree as nodes; None for no conditions (always holds). ``tz``: the rule's
    time zone, in which streaks count days."""
    if not tree:
        return None
    return _compile(tree, pointer, tz)


def _compile(clause, pointer, tz="UTC") -> Node:
    for key, cls in COMBINATORS.items():
        if key in clause:
            if key == "not":
                return cls(_compile(clause["not"], f"{pointer}/not", tz), pointer)
            children = [_compile(c, f"{pointer}/{key}/{i}", tz) for i, c in enumerate(clause[key])]
            return cls(children, pointer)
    if "streak" in clause:
        return Streak(clause, pointer, tz, _compile)
    return OPERATORS[clause["op"]](clause, pointer)


def streaks_used(node: Node | None) -> list[Streak]:
    """Every streak clause of a compiled tree: the day cells a batch must count and load."""
    found, stack = [], [node] if node is not None else []
    while stack:
        current = stack.pop()
        if isinstance(current, Streak):
            found.append(current)
        stack.extend(getattr(current, "children", ()) or ())
        if getattr(current, "child", None) is not None:
            stack.append(current.child)
    return found


def counters_used(tree) -> set[tuple]:
    """Every (event_type, period, days) a tree reads: the counters a batch must load."""
    found: set[tuple] = set()
    stack = [tree] if tree else []
    while stack:
        clause = stack.pop()
        if not isinstance(clause, dict):
            continue
        for key in COMBINATORS:
            if key in clause:
                inner = clause[key]
                stack.extend(inner if isinstance(inner, list) else [inner])
        if "counter" in clause:
            spec = clause["counter"]
            found.add((spec["event_type"], spec["period"], counter_days(spec)))
    return found


def fields_used(tree) -> set[str]:
    found: set[str] = set()
    stack = [tree] if tree else []
    while stack:
        clause = stack.pop()
        if not isinstance(clause, dict):
            continue
        for key in COMBINATORS:
            if key in clause:
                inner = clause[key]
                stack.extend(inner if isinstance(inner, list) else [inner])
        if "field" in clause:
            found.add(clause["field"])
        if isinstance(clause.get("streak"), dict):  # what qualifies reads fields too
            stack.extend(clause["streak"].get("where") or [])
    return found


def find(node: Node | None, path: str) -> Node | None:
    """The compiled clause at a JSON pointer (explanations name clauses by pointer)."""
    stack = [node] if node is not None else []
    while stack:
        current = stack.pop()
        if current.path == path:
            return current
        stack.extend(getattr(current, "children", ()) or ())
        if getattr(current, "child", None) is not None:
            stack.append(current.child)
    return None


def leading_equality(node: Node | None) -> tuple[str, str, tuple] | None:
    """``(field, pointer, accepted values)`` when the first clause evaluated is ``field eq v``
    or ``field in [...]`` on an event or member field (not a counter), else None.

    That clause decides most rules on its own (a segment, a network, a SKU), and when it fails
    it is the clause an explanation names, so a rule index can look rules up by the field's
    value instead of evaluating each one.
    """
    while isinstance(node, All) and node.children:
        node = node.children[0]
    if not isinstance(node, Comparison) or node.operand.path is None:
        return None
    if node.op == "eq":
        return node.operand.path, node.path, (node.value,)
    if node.op == "in":
        return node.operand.path, node.path, tuple(node.value)
    return None
