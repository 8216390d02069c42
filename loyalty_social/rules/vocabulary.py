"""The vocabulary of conditions: the fields, counters and periods a clause may name, and the
checks on a clause's operand and values (shared by validation and the operators)."""

from __future__ import annotations

import re

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


def field_label(path: str) -> str:
    scope, _, rest = path.partition(".")
    if scope == "member":
        if rest.startswith("attributes."):
            return rest.removeprefix("attributes.").replace("_", " ")
        return MEMBER_FIELDS.get(rest, rest)
    if scope == "event":
        return EVENT_FIELDS.get(rest, rest)
    return rest.replace("_", " ").replace(".", " ")


def validate_field(path: str, pointer: str, data_fields: set[str] | None, errors) -> None:
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


def validate_counter(spec, pointer: str, known_types: set[str], errors) -> None:
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
        if not is_int(days) or not 1 <= days <= MAX_ROLLING_DAYS:
            errors.setdefault(pointer + "/days", []).append(
                f"a rolling period needs days between 1 and {MAX_ROLLING_DAYS}"
            )
    elif days is not None:
        errors.setdefault(pointer + "/days", []).append("days applies to rolling periods only")


def is_int(value) -> bool:
    """A whole number: JSON has one number type, so 5.0 counts (JSON Schema agrees)."""
    if isinstance(value, float):
        return value.is_integer()
    return isinstance(value, int) and not isinstance(value, bool)


def counter_days(spec: dict) -> int | None:
    """JSON may say 7.0 for 7: validated as a whole number, used as an int."""
    days = spec.get("days")
    return None if days is None else int(days)


def is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_scalar(value) -> bool:
    """Text, a number or true/false (null is not a value: use the 'exists' operator)."""
    return isinstance(value, str | bool) or is_number(value)
