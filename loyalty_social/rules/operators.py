"""The condition kinds: each operator class validates its clause, compiles it to a node that
reads the facts, and says in words what it requires and what was seen.

``OPERATORS`` is the registry (name -> class, like CTFd's challenge types); the combinators
(all/any/not) live with the tree walk in ``conditions``.
"""

from __future__ import annotations

from typing import Any

from .vocabulary import MISSING, counter_days, field_label, is_int, is_number, is_scalar


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


class Operand:
    """Reads a clause's left-hand side from the facts."""

    __slots__ = ("counter", "label", "path")

    def __init__(self, clause: dict):
        if "counter" in clause:
            spec = clause["counter"]
            self.counter = (spec["event_type"], spec["period"], counter_days(spec))
            self.path = None
            kind = "activities" if spec["event_type"] == "*" else f"'{spec['event_type']}'"
            window = (
                f"in the last {counter_days(spec)} days"
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
            if not is_scalar(value):
                errors.setdefault(pointer + "/value", []).append(
                    "value must be a number, text, true/false or null"
                )
        elif not (is_number(value) or isinstance(value, str)):
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
        if is_number(actual) != is_number(value) or isinstance(actual, bool):
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
        if not isinstance(value, list) or not value or not all(is_scalar(v) for v in value):
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
        if not (isinstance(value, str) or is_number(value)):
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
            and all(v is None or is_number(v) for v in value)
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
            if bound is not None and is_number(bound) != is_number(actual):
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
            or not all(v is None or (is_int(v) and v >= 0) for v in value)
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


OPERATORS: dict[str, type[Comparison]] = {
    **{name: _comparison(name) for name in Comparison.SYMBOL},
    "in": Membership,
    "not_in": NotIn,
    "contains": Contains,
    "between": Between,
    "length_between": LengthBetween,
    "exists": Exists,
}
