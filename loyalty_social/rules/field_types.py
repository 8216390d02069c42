"""What the payload fields of the listened event types are, from the event catalogue: a
condition on a field those types do not carry, or comparing a field with a value of another
kind (``rating >= "four"``), could never hold, so it is refused when the rule is saved."""

from __future__ import annotations

from marshmallow import fields as ma

from ..intake.catalogue import CATALOGUE
from .vocabulary import is_number

NUMBER, TEXT, BOOLEAN = "a number", "text", "true/false"
# Operators whose value is compared with the field's value (``in``: each item of the list).
_COMPARED = {"eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "between"}


def _kind(field: ma.Field) -> str | None:
    if isinstance(field, ma.Boolean):
        return BOOLEAN
    if isinstance(field, ma.Integer | ma.Float | ma.Decimal | ma.Number):
        return NUMBER
    if isinstance(field, ma.String):  # Url, Email and the date-times sent as text too
        return TEXT
    return None  # lists, objects: not compared as one value


def payload_fields(event_types) -> dict[str, dict[str, str | None]]:
    """Field name -> {event type: kind} over every version of the listened types."""
    wanted = set(event_types or ())
    found: dict[str, dict[str, str | None]] = {}
    for (name, _version), event_type in CATALOGUE.items():
        if name in wanted:
            for field_name, field in event_type.schema().fields.items():
                found.setdefault(field_name, {})[name] = _kind(field)
    return found


def check_values(tree, fields: dict, pointer: str = "/conditions") -> dict[str, list[str]]:
    """Each clause on a ``data.<name>`` field whose value is of another kind than the field,
    keyed by the value's JSON pointer. Clauses elsewhere are validated by ``conditions``."""
    errors: dict[str, list[str]] = {}
    _walk(tree, pointer, fields, errors)
    return errors


def _walk(clause, pointer, fields, errors) -> None:
    if not isinstance(clause, dict):
        return
    for key in ("all", "any"):
        if isinstance(clause.get(key), list):
            for index, child in enumerate(clause[key]):
                _walk(child, f"{pointer}/{key}/{index}", fields, errors)
            return
    if "not" in clause:
        _walk(clause["not"], f"{pointer}/not", fields, errors)
        return
    path, op = clause.get("field"), clause.get("op")
    if not isinstance(op, str) or op not in _COMPARED:  # a bad op: conditions says so
        return
    if isinstance(clause.get("counter"), dict):  # a count of events is a number
        path, kind, carriers = "the counter", NUMBER, None
    elif isinstance(path, str) and path.startswith("data."):
        name = path.removeprefix("data.")
        kinds = {kind for kind in (fields.get(name) or {}).values() if kind is not None}
        if "." in name or len(kinds) != 1:  # nested, unknown, or of several kinds: not checked
            return
        kind, carriers = kinds.pop(), ", ".join(sorted(fields[name]))
    else:
        return
    value = clause.get("value")
    values = value if isinstance(value, list) else [value]
    for item in values:
        if item is None or _fits(kind, item, op):
            continue
        where = f" in {carriers}" if carriers else ""
        errors.setdefault(pointer + "/value", []).append(
            f"{path} is {kind}{where}; {item!r} is {_describe(item)}"
        )
        return


def _fits(kind: str, value, op: str) -> bool:
    if kind == NUMBER:
        return is_number(value)
    if kind == BOOLEAN:
        return isinstance(value, bool) and op in ("eq", "ne", "in", "not_in")
    return isinstance(value, str)


def _describe(value) -> str:
    if isinstance(value, bool):
        return BOOLEAN
    if is_number(value):
        return NUMBER
    if isinstance(value, str):
        return TEXT
    return "of another kind"
