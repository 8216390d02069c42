"""JSON Schemas of the rule parts that marshmallow stores as plain JSON (conditions, rewards,
period limits), for the OpenAPI document.

They describe what the API accepts (to a nesting depth of two; deeper trees are accepted too),
so a client generated from the document, or a fuzzer, produces rules that save. The
registries in ``conditions`` and ``payouts`` remain the validators.
"""

from __future__ import annotations

import re

from ..intake.catalogue import CATALOGUE, known_types
from .conditions import EVENT_FIELDS, MAX_ROLLING_DAYS, MEMBER_FIELDS

NAME = r"[A-Za-z0-9_]+"


def data_field_names() -> list[str]:
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


def _scalar():
    return {"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]}


def _ordered():
    return {"anyOf": [{"type": "string"}, {"type": "number"}]}


def _operand_variants():
    counter_types = [*known_types(), "*"]
    calendar = {
        "type": "object",
        "properties": {
            "event_type": {"type": "string", "enum": counter_types},
            "period": {"type": "string", "enum": ["day", "week", "month", "lifetime"]},
        },
        "required": ["event_type", "period"],
        "additionalProperties": False,
    }
    rolling = {
        "type": "object",
        "properties": {
            "event_type": {"type": "string", "enum": counter_types},
            "period": {"type": "string", "enum": ["rolling"]},
            "days": {"type": "integer", "minimum": 1, "maximum": MAX_ROLLING_DAYS},
        },
        "required": ["event_type", "period", "days"],
        "additionalProperties": False,
    }
    return [
        ("field", {"type": "string", "pattern": field_pattern()}),
        ("counter", {"anyOf": [calendar, rolling]}),
    ]


def _leaf_variants():
    pair = {"type": "array", "minItems": 2, "maxItems": 2}
    values = {
        ("eq", "ne"): _scalar(),
        ("lt", "le", "gt", "ge"): _ordered(),
        ("in", "not_in"): {"type": "array", "minItems": 1, "items": _scalar()},
        ("contains",): _ordered(),
        ("between",): {**pair, "items": {"type": "number", "nullable": True}},
        ("length_between",): {
            **pair,
            "items": {"type": "integer", "minimum": 0, "nullable": True},
        },
        ("exists",): {"type": "boolean"},
    }
    leaves = []
    for key, operand in _operand_variants():
        for ops, value in values.items():
            required = ["op", key] if ops == ("exists",) else ["op", key, "value"]
            leaves.append(
                {
                    "type": "object",
                    "properties": {
                        "op": {"type": "string", "enum": list(ops)},
                        key: operand,
                        "value": value,
                    },
                    "required": required,
                    "additionalProperties": False,
                }
            )
    return leaves


def _group(inner: dict) -> list[dict]:
    return [
        {
            "type": "object",
            "properties": {key: {"type": "array", "items": inner, "maxItems": 50}},
            "required": [key],
            "additionalProperties": False,
        }
        for key in ("all", "any")
    ] + [
        {
            "type": "object",
            "properties": {"not": inner},
            "required": ["not"],
            "additionalProperties": False,
        }
    ]


def condition_schema() -> dict:
    leaf = {"anyOf": _leaf_variants()}
    level1 = {"anyOf": [leaf, *_group(leaf)]}
    return {
        "anyOf": [*_leaf_variants(), *_group(level1)],
        "description": "A condition tree: all/any/not of {field|counter, op, value}; "
        "errors point at the clause (JSON pointer).",
        "nullable": True,
    }


def reward_schema() -> dict:
    def kind(name, properties, required):
        return {
            "type": "object",
            "properties": {"kind": {"type": "string", "enum": [name]}, **properties},
            "required": ["kind", *required],
            "additionalProperties": False,
        }

    points = {"type": "integer", "minimum": 1, "maximum": 1_000_000}
    return {
        "anyOf": [
            kind("fixed", {"points": points}, ["points"]),
            kind(
                "formula",
                {
                    "field": {"type": "string", "pattern": f"^{data_field_pattern()}$"},
                    "per": {
                        "type": "number",
                        "minimum": 0,
                        "exclusiveMinimum": True,
                        "maximum": 1e12,
                    },
                    "points": points,
                    "cap": points,
                },
                ["field", "cap"],
            ),
            kind(
                "tier_multiplier",
                {
                    "tiers": {
                        "type": "object",
                        "minProperties": 1,
                        "additionalProperties": {"type": "number", "minimum": 0, "maximum": 100},
                    }
                },
                ["tiers"],
            ),
            kind(
                "offer",
                {"offer_id": {"type": "string", "minLength": 1, "maxLength": 40}},
                ["offer_id"],
            ),
        ]
    }


def period_limit_schema() -> dict:
    amount = {
        "count": {"type": "integer", "minimum": 1, "maximum": 1_000_000},
        "points": {"type": "integer", "minimum": 1, "maximum": 100_000_000},
    }
    variants = []
    for periods, extra in (
        (["day", "week", "month", "lifetime"], {}),
        (["rolling"], {"days": {"type": "integer", "minimum": 1, "maximum": MAX_ROLLING_DAYS}}),
    ):
        for needed in ("count", "points"):
            variants.append(
                {
                    "type": "object",
                    "properties": {
                        "period": {"type": "string", "enum": periods},
                        **extra,
                        **amount,
                    },
                    "required": ["period", *extra, needed],
                    "additionalProperties": False,
                }
            )
    return {"anyOf": variants}
