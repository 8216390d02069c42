"""The grammar of a rule's JSON parts (conditions, rewards) as marshmallow schemas: the wire
format the OpenAPI document shows, each shape named once and referenced (``Condition`` is
``anyOf`` the clause shapes, and ``all``/``any``/``not`` clauses hold ``Condition`` again).

They say what the API accepts, so a client generated from the document, or a fuzzer, writes
rules that save. Saving checks a rule with the registries in ``conditions`` and ``payouts``
(``OPERATORS``, ``REWARD_KINDS``), whose errors point at the clause (``/conditions/all/1/value``);
a test holds the two to the same operators, kinds and documented examples.
"""

from __future__ import annotations

import re

from marshmallow import RAISE, Schema, fields, validate

from ..intake.catalogue import CATALOGUE, known_types
from ..openapi import OneOf
from .conditions import (
    EVENT_FIELDS,
    MAX_CLAUSES,
    MAX_DEPTH,
    MAX_LIST,
    MAX_ROLLING_DAYS,
    MEMBER_FIELDS,
)
from .fields import StrictBoolean, WholeNumber
from .streaks import MAX_STREAK_DAYS, MAX_WHERE

NAME = r"[A-Za-z0-9_]+"
MAX_POINTS = 1_000_000


def data_field_names() -> list[str]:
    """Fields some event type declares: a condition on anything else is a typo."""
    names: set[str] = set()
    for event_type in CATALOGUE.values():
        names.update(event_type.schema().fields)
    return sorted(names)


def data_field_pattern() -> str:
    names = "|".join(re.escape(n) for n in data_field_names())
    return rf"data\.({names})(\.{NAME})*"


def field_pattern() -> str:
    member = "|".join(MEMBER_FIELDS)
    event = "|".join(EVENT_FIELDS)
    return (
        rf"^({data_field_pattern()}|member\.({member})|member\.attributes\.{NAME}(\.{NAME})*"
        rf"|event\.({event}))$"
    )


class Strict(Schema):
    class Meta:
        unknown = RAISE


def condition(depth: int = 0, **kwargs) -> OneOf:
    """The grammar of a condition ``depth`` groups down: the validator refuses groups nested
    deeper than ``MAX_DEPTH``, and so does the document (its last level holds clauses only)."""
    if depth == MAX_DEPTH:
        return OneOf(
            lambda: CLAUSE_SHAPES,
            component="Clause",
            about="{field or counter, op, value}: a comparison, or a streak; no group.",
            **kwargs,
        )
    return OneOf(
        lambda: [*CLAUSE_SHAPES, *GROUP_SHAPES[depth]],
        component="Nested" * depth + "Condition",
        about="A clause {field or counter, op, value}, a streak, or all/any/not of conditions "
        f"(nested at most {MAX_DEPTH} deep, at most {MAX_CLAUSES} clauses). A rejected rule's "
        "errors are keyed by the clause's JSON pointer, e.g. /conditions/all/1/value.",
        **kwargs,
    )


def reward(**kwargs) -> OneOf:
    return OneOf(
        lambda: REWARD_SHAPES,
        component="Reward",
        about="Point rewards (fixed, formula) add up, multipliers apply to the sum; "
        "an offer grants early access.",
        **kwargs,
    )


# --- Operands: what a clause reads ---------------------------------------------------------


class _Counter(Strict):
    event_type = fields.String(required=True, validate=validate.OneOf([*known_types(), "*"]))


class CalendarCounterSchema(_Counter):
    """How many activities of a type ('*': any) this member had in the period, this one included."""

    period = fields.String(
        required=True, validate=validate.OneOf(("day", "week", "month", "lifetime"))
    )


class RollingCounterSchema(_Counter):
    """How many activities of a type in the last ``days`` days, this one included."""

    period = fields.String(required=True, validate=validate.OneOf(("rolling",)))
    days = WholeNumber(required=True, validate=validate.Range(1, MAX_ROLLING_DAYS))


class _OnField(Strict):
    field = fields.String(
        required=True,
        validate=validate.Regexp(field_pattern()),
        metadata={
            "description": "data.<field>, member.<field>, member.attributes.<name>, "
            "or event.<field>"
        },
    )


class _OnCounter(Strict):
    counter = OneOf(
        lambda: [CalendarCounterSchema, RollingCounterSchema],
        component="Counter",
        about="Activities of a type ('*': any) by this member in a period, this one included.",
        required=True,
    )


# --- Operators: what a clause compares the operand with -------------------------------------

SCALAR = {"type": ["string", "number", "boolean"]}
ORDERED = {"type": ["string", "number"]}


class _Equality(Schema):
    op = fields.String(required=True, validate=validate.OneOf(("eq", "ne")))
    value = fields.Raw(required=True, metadata=SCALAR)


class _Order(Schema):
    op = fields.String(required=True, validate=validate.OneOf(("lt", "le", "gt", "ge", "contains")))
    value = fields.Raw(required=True, metadata=ORDERED)


class _Membership(Schema):
    op = fields.String(required=True, validate=validate.OneOf(("in", "not_in")))
    value = fields.List(fields.Raw(metadata=SCALAR), required=True, validate=validate.Length(min=1))


class _Range(Schema):
    op = fields.String(required=True, validate=validate.OneOf(("between",)))
    value = fields.List(
        fields.Float(allow_none=True),
        required=True,
        validate=validate.Length(2, 2),
        metadata={"description": "[low, high]; null leaves that end open"},
    )


class _LengthRange(Schema):
    op = fields.String(required=True, validate=validate.OneOf(("length_between",)))
    value = fields.List(
        WholeNumber(allow_none=True, validate=validate.Range(min=0)),
        required=True,
        validate=validate.Length(2, 2),
        metadata={"description": "[min length, max length]; null leaves that end open"},
    )


class _Existence(Schema):
    op = fields.String(required=True, validate=validate.OneOf(("exists",)))
    value = StrictBoolean(metadata={"description": "true: present (the default); false: absent"})


OPERATOR_SHAPES = {
    "Equality": _Equality,
    "Order": _Order,
    "Membership": _Membership,
    "Range": _Range,
    "LengthRange": _LengthRange,
    "Existence": _Existence,
}
CLAUSE_SHAPES = [
    type(f"{operand}{name}ClauseSchema", (base, shape), {"__module__": __name__})
    for operand, base in (("Field", _OnField), ("Counter", _OnCounter))
    for name, shape in OPERATOR_SHAPES.items()
]
FIELD_CLAUSE_SHAPES = [shape for shape in CLAUSE_SHAPES if "field" in shape._declared_fields]


class StreakSchema(Strict):
    """A qualifying activity on ``days`` days in a row (the rule's time zone); several the same
    day count once, a day without one starts again. Holds for the event that completes the
    streak: once per streak."""

    event_type = fields.String(required=True, validate=validate.OneOf(known_types()))
    days = WholeNumber(required=True, validate=validate.Range(2, MAX_STREAK_DAYS))
    where = fields.List(
        OneOf(
            lambda: FIELD_CLAUSE_SHAPES,
            component="FieldClause",
            about="{field, op, value}: a comparison on a field of the event or the member.",
        ),
        validate=validate.Length(max=MAX_WHERE),
        metadata={"description": "What makes an activity count (all must hold)"},
    )


class StreakClauseSchema(Strict):
    """e.g. a 'community.milestone' with value >= 8000 on 7 days in a row."""

    streak = fields.Nested(StreakSchema, required=True)


CLAUSE_SHAPES.append(StreakClauseSchema)


# --- Combinators -------------------------------------------------------------------------


def _groups(depth: int) -> list[type]:
    """all/any/not at ``depth``, holding conditions one level down."""
    name, inner = "Nested" * depth, depth + 1
    many = {"required": True, "validate": validate.Length(max=MAX_LIST)}
    return [
        type(
            f"{name}AllSchema",
            (Strict,),
            {"__doc__": "Every condition holds (none holds too).", "__module__": __name__}
            | {"all": fields.List(condition(inner), **many)},
        ),
        type(
            f"{name}AnySchema",
            (Strict,),
            {"__doc__": "At least one condition holds.", "__module__": __name__}
            | {"any": fields.List(condition(inner), **many)},
        ),
        type(
            f"{name}NotSchema",
            (Strict,),
            {"__doc__": "The condition does not hold.", "__module__": __name__}
            | {"not_": condition(inner, required=True, data_key="not")},
        ),
    ]


GROUP_SHAPES = [_groups(depth) for depth in range(MAX_DEPTH)]


# --- Rewards -----------------------------------------------------------------------------

POINTS = validate.Range(1, MAX_POINTS)


class FixedRewardSchema(Strict):
    kind = fields.String(required=True, validate=validate.OneOf(("fixed",)))
    points = WholeNumber(required=True, validate=POINTS)


class FormulaRewardSchema(Strict):
    """``points`` for every whole ``per`` of the field's value, at most ``cap``."""

    kind = fields.String(required=True, validate=validate.OneOf(("formula",)))
    field = fields.String(required=True, validate=validate.Regexp(f"^{data_field_pattern()}$"))
    per = fields.Float(
        validate=validate.Range(0, 1e12, min_inclusive=False),
        metadata={"default": 1, "exclusiveMinimum": 0},
    )
    points = WholeNumber(validate=POINTS, metadata={"default": 1})
    cap = WholeNumber(required=True, validate=POINTS)


class TierMultiplierRewardSchema(Strict):
    """The points times the member's tier's factor (1 for a tier not listed)."""

    kind = fields.String(required=True, validate=validate.OneOf(("tier_multiplier",)))
    tiers = fields.Dict(
        keys=fields.String(),
        values=fields.Float(validate=validate.Range(0, 100)),
        required=True,
        metadata={"minProperties": 1},
    )


class OfferRewardSchema(Strict):
    """Early access to an offer."""

    kind = fields.String(required=True, validate=validate.OneOf(("offer",)))
    offer_id = fields.String(required=True, validate=validate.Length(1, 40))


REWARD_SHAPES = [
    FixedRewardSchema,
    FormulaRewardSchema,
    TierMultiplierRewardSchema,
    OfferRewardSchema,
]
