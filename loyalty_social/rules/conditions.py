"""Conditions: JSON trees validated on save, compiled once, evaluated without ``eval``.

A condition is data, e.g. ``{"all": [{"field": "data.rating", "op": "ge", "value": 4},
{"counter": {"event_type": "review.published", "period": "month"}, "op": "eq", "value": 3}]}``.
``OPERATORS`` is the registry (name -> class, like CTFd's challenge types): each class knows
how to validate its clause, compile it to a node, and describe it in words. Errors point at
the offending clause with a JSON pointer (``/conditions/all/1/value``), so a marketer's
console can highlight it.

Compiled nodes answer ``failure(facts)``: None when the clause holds, else the deepest clause
that failed with the value seen, which is what explanations store. ``trace(facts)`` evaluates
every clause (preview), not just up to the first failure.
"""

from __future__ import annotations

import re
from typing import Any

MAX_DEPTH = 2  # all/any/not nested two deep, as the OpenAPI document describes
MAX_LIST = 50
_NAME = re.compile(r"[A-Za-z0-9_]+")
MAX_CLAUSES = 100
MISSING = object()
MEMBER_FIELDS = {
    "tier": "your tier",
    "country": "your country",
    "joined_at": "the date you joined",
    "days_since_joined": "days since you joined",
    "linked_networks": "your linked social accounts",
    "advocate_level": "your advocate level",
}
EVENT_FIELDS = {
    "type": "the activity type",
    "evidence": "how the activity was proven",
    "source": "the source of the activity",
    "weekday": "the day of the week (1 = Monday)",
    "hour": "the hour of the day",
}
PERIODS = ("day", "week", "month", "lifetime", "rolling")
MAX_ROLLING_DAYS = 31


class Failure:
    """The clause that did not hold: where it is, what it says, what was seen.

    The texts are made only when read: evaluation records thousands of failures a second
    and most are stored as data, never shown.
    """

    __slots__ = ("_clause", "_words", "actual", "node", "path")

    def __init__(self, path: str, node, actual, clause: str | None = None, words=None):
        self.path = path
        self.node = node
        self.actual = actual
        self._clause = clause
        self._words = words

    @property
    def clause(self) -> str:
        return self._clause if self._clause is not None else self.node.describe()

    @property
    def words(self) -> str:
        return self._words if self._words is not None else self.node.words(self.actual)

    def as_dict(self) -> dict:
        """What explanations store: the clause and the value seen (texts come on reading)."""
        actual = None if self.actual is MISSING else self.actual
        return {"clause": self.path, "actual": actual}


class ConditionErrors(Exception):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


# --- Operands ----------------------------------------------------------------------------


def field_label(path: str) -> str:
    scope, _, rest = path.partition(".")
    if scope == "member":
        if rest.startswith("attributes."):
            return rest.removeprefix("attributes.").replace("_", " ")
        return MEMBER_FIELDS.get(rest, rest)
    if scope == "event":
        return EVENT_FIELDS.get(rest, rest)
    return rest.replace("_", " ").replace(".", " ")


def _validate_field(path: str, pointer: str, data_fields: set[str] | None, errors) -> None:
    if not isinstance(path, str) or "." not in path:
        errors.setdefault(pointer, []).append(
            "field must be 'data.<name>', 'member.<name>' or 'event.<name>'"
        )
        return
    scope, _, rest = path.partition(".")
    if not rest or any(not _NAME.fullmatch(part) for part in rest.split(".")):
        errors.setdefault(pointer, []).append(
            f"field {path!r}: each part is letters, digits or '_'"
        )
    elif scope == "data":
        top = rest.split(".")[0]
        if data_fields is not None and top not in data_fields:
            known = ", ".join(sorted(data_fields)) or "none"
            errors.setdefault(pointer, []).append(
                f"the listened event types carry no field {top!r} (they carry: {known})"
            )
    elif scope == "member":
        if rest not in MEMBER_FIELDS and not rest.startswith("attributes."):
            errors.setdefault(pointer, []).append(
                f"unknown member field {rest!r}; one of {', '.join(MEMBER_FIELDS)} "
                "or attributes.<name>"
            )
    elif scope == "event":
        if rest not in EVENT_FIELDS:
            errors.setdefault(pointer, []).append(
                f"unknown event field {rest!r}; one of {', '.join(EVENT_FIELDS)}"
            )
    else:
        errors.setdefault(pointer, []).append(
            f"unknown field scope {scope!r}; one of data, member, event"
        )


def _validate_counter(spec, pointer: str, known_types: set[str], errors) -> None:
    if not isinstance(spec, dict):
        errors.setdefault(pointer, []).append("counter must be an object")
        return
    extra = set(spec) - {"event_type", "period", "days"}
    if extra:
        errors.setdefault(pointer, []).append(f"unknown counter keys: {', '.join(sorted(extra))}")
    event_type = spec.get("event_type")
    if not isinstance(event_type, str) or (event_type != "*" and event_type not in known_types):
        errors.setdefault(pointer + "/event_type", []).append(
            f"unknown event type {event_type!r} ('*' counts every type)"
        )
    period = spec.get("period")
    if not isinstance(period, str) or period not in PERIODS:
        errors.setdefault(pointer + "/period", []).append(f"period must be one of {PERIODS}")
    days = spec.get("days")
    if period == "rolling":
        if not _is_int(days) or not 1 <= days <= MAX_ROLLING_DAYS:
            errors.setdefault(pointer + "/days", []).append(
                f"a rolling period needs days between 1 and {MAX_ROLLING_DAYS}"
            )
    elif days is not None:
        errors.setdefault(pointer + "/days", []).append("days applies to rolling periods only")


def _is_int(value) -> bool:
    """A whole number: JSON has one number type, so 5.0 counts (JSON Schema agrees)."""
    if isinstance(value, float):
        return value.is_integer()
    return isinstance(value, int) and not isinstance(value, bool)


def _days(spec: dict) -> int | None:
    """JSON may say 7.0 for 7: validated as a whole number, used as an int."""
    days = spec.get("days")
    return None if days is None else int(days)


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _scalar(value) -> bool:
    """Text, a number or true/false (null is not a value: use the 'exists' operator)."""
    return isinstance(value, str | bool) or _is_number(value)


class Operand:
    """Reads a clause's left-hand side from the facts."""

    __slots__ = ("counter", "label", "path")

    def __init__(self, clause: dict):
        if "counter" in clause:
            spec = clause["counter"]
            self.counter = (spec["event_type"], spec["period"], _days(spec))
            self.path = None
            kind = "activities" if spec["event_type"] == "*" else f"'{spec['event_type']}'"
            window = (
                f"in the last {_days(spec)} days"
                if spec["period"] == "rolling"
                else ("ever" if spec["period"] == "lifetime" else f"this {spec['period']}")
            )
            self.label = f"number of {kind} {window} (counting this one)"
        else:
            self.counter = None
            self.path = clause["field"]
            self.label = field_label(self.path)

    def read(self, facts) -> Any:
        if self.counter is not None:
            return facts.counter(*self.counter)
        return facts.get(self.path)

    def name(self) -> str:
        if self.counter is not None:
            event_type, period, days = self.counter
            return f"count({event_type}, {period}{f' {days}d' if days else ''})"
        return self.path


# --- Operators ---------------------------------------------------------------------------


class Node:
    """A compiled clause."""

    __slots__ = ("path",)

    def failure(self, facts) -> Failure | None:
        raise NotImplementedError

    def trace(self, facts) -> dict:
        raise NotImplementedError


class Comparison(Node):
    """field OP value: eq, ne, lt, le, gt, ge (numbers with numbers, text with text)."""

    __slots__ = ("operand", "value")
    SYMBOL = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
    WORDS = {
        "eq": "must be",
        "ne": "must not be",
        "lt": "must be less than",
        "le": "must be at most",
        "gt": "must be more than",
        "ge": "must be at least",
    }
    op = "eq"

    @classmethod
    def validate(cls, clause, pointer, errors) -> None:
        value = clause.get("value", MISSING)
        if cls.op in ("eq", "ne"):
            if not _scalar(value):
                errors.setdefault(pointer + "/value", []).append(
                    "value must be a number, text, true/false or null"
                )
        elif not (_is_number(value) or isinstance(value, str)):
            errors.setdefault(pointer + "/value", []).append("value must be a number or text")

    def __init__(self, clause, path):
        self.path = path
        self.operand = Operand(clause)
        self.value = clause["value"]

    def holds(self, actual) -> bool:
        if actual is MISSING:
            return False
        op, value = self.op, self.value
        if op == "eq":
            return actual == value
        if op == "ne":
            return actual != value
        if _is_number(actual) != _is_number(value) or isinstance(actual, bool):
            return False
        if op == "lt":
            return actual < value
        if op == "le":
            return actual <= value
        if op == "gt":
            return actual > value
        return actual >= value

    def describe(self) -> str:
        return f"{self.operand.name()} {self.SYMBOL[self.op]} {self.value!r}"

    def words(self, actual) -> str:
        seen = "it was missing" if actual is MISSING else f"it was {_show(actual)}"
        return f"{self.operand.label} {self.WORDS[self.op]} {_show(self.value)} ({seen})"

    def failure(self, facts):
        actual = self.operand.read(facts)
        if self.holds(actual):
            return None
        return Failure(self.path, self, actual)

    def trace(self, facts):
        actual = self.operand.read(facts)
        return {
            "clause": self.path,
            "expected": self.describe(),
            "actual": None if actual is MISSING else actual,
            "result": self.holds(actual),
        }


def _show(value) -> str:
    if isinstance(value, list | tuple | set):
        return ", ".join(_show(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _comparison(name: str) -> type[Comparison]:
    return type(f"Compare_{name}", (Comparison,), {"op": name, "__slots__": ()})


class Membership(Comparison):
    """field in [values] / not_in [values]; for list fields: any element in the values."""

    __slots__ = ()
    op = "in"

    @classmethod
    def validate(cls, clause, pointer, errors):
        value = clause.get("value")
        if not isinstance(value, list) or not value or not all(_scalar(v) for v in value):
            errors.setdefault(pointer + "/value", []).append(
                "value must be a non-empty list of numbers, texts or true/false"
            )

    def __init__(self, clause, path):
        super().__init__(clause, path)
        self.value = list(clause["value"])

    def holds(self, actual):
        if actual is MISSING:
            return self.op == "not_in"
        if isinstance(actual, list):
            found = any(item in self.value for item in actual)
        else:
            found = actual in self.value
        return found if self.op == "in" else not found

    def describe(self):
        return f"{self.operand.name()} {self.op.replace('_', ' ')} {self.value!r}"

    def words(self, actual):
        seen = "it was missing" if actual is MISSING else f"it was {_show(actual)}"
        verb = "must be one of" if self.op == "in" else "must not be any of"
        return f"{self.operand.label} {verb} {_show(self.value)} ({seen})"


class NotIn(Membership):
    __slots__ = ()
    op = "not_in"


class Contains(Comparison):
    """A list field holds the value, or a text field contains it."""

    __slots__ = ()
    op = "contains"

    @classmethod
    def validate(cls, clause, pointer, errors):
        value = clause.get("value", MISSING)
        if not (isinstance(value, str) or _is_number(value)):
            errors.setdefault(pointer + "/value", []).append("value must be a number or text")

    def holds(self, actual):
        if isinstance(actual, list):
            return self.value in actual
        if isinstance(actual, str) and isinstance(self.value, str):
            return self.value in actual
        return False

    def describe(self):
        return f"{self.operand.name()} contains {self.value!r}"

    def words(self, actual):
        seen = "it was missing" if actual is MISSING else f"it was {_show(actual)}"
        return f"{self.operand.label} must include {_show(self.value)} ({seen})"


class Between(Comparison):
    """lo <= field <= hi; either end may be null (open)."""

    __slots__ = ()
    op = "between"

    @classmethod
    def validate(cls, clause, pointer, errors):
        value = clause.get("value")
        ok = (
            isinstance(value, list)
            and len(value) == 2
            and all(v is None or _is_number(v) for v in value)
        )
        if not ok:
            errors.setdefault(pointer + "/value", []).append(
                "value must be [low, high], numbers; null leaves that end open"
            )

    def measure(self, actual):
        return actual

    def holds(self, actual):
        actual = self.measure(actual)
        if actual is MISSING or actual is None or isinstance(actual, bool):
            return False
        low, high = self.value
        for bound in (low, high):
            if bound is not None and _is_number(bound) != _is_number(actual):
                return False
        return (low is None or actual >= low) and (high is None or actual <= high)

    def describe(self):
        low, high = self.value
        return f"{low!r} <= {self.operand.name()} <= {high!r}"

    def _range_words(self):
        low, high = self.value
        if low is None:
            return f"at most {_show(high)}"
        if high is None:
            return f"at least {_show(low)}"
        return f"between {_show(low)} and {_show(high)}"

    def words(self, actual):
        seen = "it was missing" if actual is MISSING else f"it was {_show(self.measure(actual))}"
        return f"{self.operand.label} must be {self._range_words()} ({seen})"


class LengthBetween(Between):
    """Text (or list) length within [min, max]: e.g. a review of at least 100 characters."""

    __slots__ = ()
    op = "length_between"

    @classmethod
    def validate(cls, clause, pointer, errors):
        value = clause.get("value")
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not all(v is None or (_is_int(v) and v >= 0) for v in value)
        ):
            errors.setdefault(pointer + "/value", []).append(
                "value must be [min length, max length] (whole numbers; one may be null)"
            )

    def measure(self, actual):
        if isinstance(actual, str | list):
            return len(actual)
        return MISSING

    def describe(self):
        low, high = self.value
        return f"{low!r} <= len({self.operand.name()}) <= {high!r}"

    def words(self, actual):
        measured = self.measure(actual)
        seen = "it was missing" if measured is MISSING else f"it was {measured}"
        return f"the length of {self.operand.label} must be {self._range_words()} ({seen})"


class Exists(Comparison):
    """The field is present (value true) or absent (value false)."""

    __slots__ = ()
    op = "exists"

    @classmethod
    def validate(cls, clause, pointer, errors):
        if not isinstance(clause.get("value", True), bool):
            errors.setdefault(pointer + "/value", []).append("value must be true or false")

    def __init__(self, clause, path):
        self.path = path
        self.operand = Operand(clause)
        self.value = clause.get("value", True)

    def holds(self, actual):
        return (actual is not MISSING and actual is not None) == self.value

    def describe(self):
        return f"{self.operand.name()} {'exists' if self.value else 'is absent'}"

    def words(self, actual):
        return f"{self.operand.label} must be {'given' if self.value else 'absent'}"


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


OPERATORS: dict[str, type[Comparison]] = {
    **{name: _comparison(name) for name in Comparison.SYMBOL},
    "in": Membership,
    "not_in": NotIn,
    "contains": Contains,
    "between": Between,
    "length_between": LengthBetween,
    "exists": Exists,
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
    op = clause.get("op")
    if not isinstance(op, str) or op not in OPERATORS:
        errors.setdefault(pointer + "/op", []).append(
            f"unknown operator {op!r}; one of {', '.join(OPERATORS)} "
            "(or a clause 'all', 'any', 'not')"
        )
        return
    allowed = {"op", "value", "field", "counter"}
    extra = set(clause) - allowed
    if extra:
        errors.setdefault(pointer, []).append(f"unknown keys: {', '.join(sorted(extra))}")
    if ("field" in clause) == ("counter" in clause):
        errors.setdefault(pointer, []).append("give exactly one of 'field' or 'counter'")
    elif "field" in clause:
        _validate_field(clause["field"], pointer + "/field", data_fields, errors)
    else:
        _validate_counter(clause["counter"], pointer + "/counter", known_types, errors)
    if "value" not in clause and op != "exists":
        errors.setdefault(pointer + "/value", []).append("missing")
        return
    OPERATORS[op].validate(clause, pointer, errors)


def compile_tree(tree, pointer: str = "/conditions") -> Node | None:
    """A validated tree as nodes; None for no conditions (always holds)."""
    if not tree:
        return None
    return _compile(tree, pointer)


def _compile(clause, pointer) -> Node:
    for key, cls in COMBINATORS.items():
        if key in clause:
            if key == "not":
                return cls(_compile(clause["not"], f"{pointer}/not"), pointer)
            children = [_compile(c, f"{pointer}/{key}/{i}") for i, c in enumerate(clause[key])]
            return cls(children, pointer)
    return OPERATORS[clause["op"]](clause, pointer)


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
            found.add((spec["event_type"], spec["period"], _days(spec)))
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
