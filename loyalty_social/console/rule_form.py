"""The rule form: a rule document as form fields and back, and the API's error pointers
mapped to the field that caused them (shown beside it).

The structured part covers the common shapes: conditions as one list of field, counter or
streak clauses, each one negated ("not") or not, joined by "all" or "any" (a streak: an
event type, its qualifying field clauses and the days in a row, counted in the rule's time
zone); one base reward (fixed or formula) with optional tier multipliers and an offer;
evidence, limits, cooldown, budget, campaign, schedule and time zone, priority, exclusivity,
targeting and holds. Anything else (nested groups, several point rewards) is edited as JSON
in the advanced editors, which the form opens by itself when a rule needs them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from werkzeug.datastructures import MultiDict

COMPARISONS = (
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "in",
    "not_in",
    "contains",
    "between",
    "length_between",
    "exists",
)
PERIODS = ("day", "week", "month", "lifetime", "rolling")
LIMIT_PERIODS = ("day", "week", "month", "lifetime", "rolling")
EVIDENCE = ("claimed", "tracked", "verified", "confirmed")
EXTRA_ROWS = 2
MAX_WHERE_ROWS = 10  # a streak's qualifying clauses (streaks.MAX_WHERE)


@dataclass
class Parsed:
    """What a submitted form says: the document, and where each part came from."""

    doc: dict
    origin: dict[str, str] = field(default_factory=dict)  # JSON pointer prefix -> form field
    errors: dict[str, list[str]] = field(default_factory=dict)  # form field -> messages


def _value(text: str):
    """A clause value as typed: JSON when it parses (4, true, ["a","b"]), else the text."""
    text = text.strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _show(value) -> str:
    return "" if value is None else value if isinstance(value, str) else json.dumps(value)


def _int(form: MultiDict, name: str, errors: dict) -> int | None:
    text = (form.get(name) or "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        errors.setdefault(name, []).append("Enter a whole number.")
        return None


def _factors(text: str, name: str, errors: dict) -> dict | None:
    """ "gold=1.5, platinum=2" -> {"gold": 1.5, "platinum": 2.0}."""
    found = {}
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        key, _, number = part.partition("=")
        try:
            found[key.strip()] = float(number)
        except ValueError:
            errors.setdefault(name, []).append(
                "Write name=factor pairs, e.g. gold=1.5, platinum=2."
            )
            return None
    return found or None


def _json(form: MultiDict, name: str, errors: dict):
    text = (form.get(name) or "").strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError as error:
        errors.setdefault(name, []).append(f"Not valid JSON: {error}.")
        return None


def _when(form: MultiDict, name: str, zone: str, errors: dict) -> str | None:
    text = (form.get(name) or "").strip()
    if not text:
        return None
    try:
        local = datetime.fromisoformat(text)
        tz = ZoneInfo(zone)
    except (ValueError, KeyError):
        errors.setdefault(name, []).append("Pick a date and time.")
        return None
    return local.replace(tzinfo=tz).isoformat()


def parse(form: MultiDict) -> Parsed:
    """The submitted form as a rule document (the rules service validates it)."""
    out = Parsed({})
    doc, origin, errors = out.doc, out.origin, out.errors
    doc["name"] = (form.get("name") or "").strip()
    origin["/name"] = "name"
    doc["description"] = (form.get("description") or "").strip() or None
    origin["/description"] = "description"
    doc["event_types"] = form.getlist("event_types")
    origin["/event_types"] = "event_types"
    _parse_conditions(form, out)
    _parse_rewards(form, out)
    evidence = {"min": form.get("evidence_min") or "claimed"}
    scale = _factors(form.get("evidence_scale", ""), "evidence_scale", errors)
    if scale:
        evidence["scale"] = scale
    doc["evidence"] = evidence
    origin.update({"/evidence/min": "evidence_min", "/evidence/scale": "evidence_scale"})
    _parse_limits(form, out)
    doc["budget"] = {
        "points": _int(form, "budget_points", errors),
        "count": _int(form, "budget_count", errors),
    }
    origin.update({"/budget/points": "budget_points", "/budget/count": "budget_count"})
    doc["campaign_id"] = form.get("campaign_id") or None
    origin["/campaign_id"] = "campaign_id"
    zone = (form.get("timezone") or "UTC").strip()
    doc["schedule"] = {
        "starts_at": _when(form, "starts_at", zone, errors),
        "ends_at": _when(form, "ends_at", zone, errors),
        "timezone": zone,
    }
    origin.update(
        {
            "/schedule/starts_at": "starts_at",
            "/schedule/ends_at": "ends_at",
            "/schedule/timezone": "timezone",
            "/schedule": "starts_at",
        }
    )
    priority = _int(form, "priority", errors)
    doc["priority"] = 100 if priority is None else priority
    origin["/priority"] = "priority"
    doc["exclusive"] = form.get("exclusive") == "on"
    doc["targeted"] = form.get("targeted") == "on"
    hold = {
        "above_points": _int(form, "hold_above_points", errors),
        "flagged_members": form.get("hold_flagged_members") == "on",
    }
    if any(hold.values()):  # absent when unset: the document the API stores for "no holds"
        doc["hold"] = hold
    origin.update({"/hold/above_points": "hold_above_points", "/hold": "hold_above_points"})
    return out


def _parse_conditions(form: MultiDict, out: Parsed) -> None:
    if form.get("conditions_mode") == "json":
        out.doc["conditions"] = _json(form, "conditions_json", out.errors)
        out.origin["/conditions"] = "conditions_json"
        return
    match = "any" if form.get("match") == "any" else "all"
    clauses = []
    for row in range(int(form.get("condition_rows") or 0)):
        p = f"c{row}_"
        here = f"/conditions/{match}/{len(clauses)}"
        negated = form.get(p + "negate") == "on"
        clause = _parse_clause(form, p, here + "/not" if negated else here, out)
        if clause is not None:
            out.origin.setdefault(here, p + "negate")
            clauses.append({"not": clause} if negated else clause)
    out.doc["conditions"] = {match: clauses} if clauses else None
    out.origin["/conditions"] = "c0_field"


def _parse_clause(form: MultiDict, p: str, here: str, out: Parsed) -> dict | None:
    """One clause row (None when left empty): a field, a counter or a streak."""
    kind, op = form.get(p + "kind") or "field", form.get(p + "op") or "eq"
    if kind == "field" and not (form.get(p + "field") or "").strip():
        return None
    if kind == "counter" and not form.get(p + "counter_type"):
        return None
    if kind == "streak":
        return _parse_streak(form, p, here, out) if form.get(p + "streak_type") else None
    clause: dict = {"op": op}
    if kind == "counter":
        counter = {
            "event_type": form.get(p + "counter_type"),
            "period": form.get(p + "counter_period") or "lifetime",
        }
        days = _int(form, p + "counter_days", out.errors)
        if days is not None:
            counter["days"] = days
        clause["counter"] = counter
    else:
        clause["field"] = form.get(p + "field", "").strip()
    if op != "exists" or (form.get(p + "value") or "").strip():  # exists false: absent
        clause["value"] = _value(form.get(p + "value", ""))
    out.origin.update(
        {
            here: p + "value",
            here + "/field": p + "field",
            here + "/op": p + "op",
            here + "/value": p + "value",
            here + "/counter": p + "counter_type",
            here + "/counter/event_type": p + "counter_type",
            here + "/counter/period": p + "counter_period",
            here + "/counter/days": p + "counter_days",
        }
    )
    return clause


def _parse_streak(form: MultiDict, p: str, here: str, out: Parsed) -> dict:
    """A streak row: its event type, days in a row and qualifying clauses (``{p}w{i}_*``)."""
    spec: dict = {
        "event_type": form.get(p + "streak_type"),
        "days": _int(form, p + "streak_days", out.errors),
    }
    out.origin.update(
        {
            here: p + "streak_type",
            here + "/streak": p + "streak_type",
            here + "/streak/event_type": p + "streak_type",
            here + "/streak/days": p + "streak_days",
            here + "/streak/where": p + "w0_field",
        }
    )
    where = []
    rows = min(_int(form, p + "where_rows", out.errors) or 0, MAX_WHERE_ROWS)
    for row in range(rows):
        w = f"{p}w{row}_"
        name, op = (form.get(w + "field") or "").strip(), form.get(w + "op") or "eq"
        if not name:
            continue
        clause = {"field": name, "op": op}
        if op != "exists" or (form.get(w + "value") or "").strip():
            clause["value"] = _value(form.get(w + "value", ""))
        at = f"{here}/streak/where/{len(where)}"
        out.origin.update(
            {
                at: w + "value",
                at + "/field": w + "field",
                at + "/op": w + "op",
                at + "/value": w + "value",
            }
        )
        where.append(clause)
    if where:
        spec["where"] = where
    return {"streak": spec}


def _parse_rewards(form: MultiDict, out: Parsed) -> None:
    if form.get("rewards_mode") == "json":
        out.doc["rewards"] = _json(form, "rewards_json", out.errors) or []
        out.origin["/rewards"] = "rewards_json"
        return
    rewards: list[dict] = []
    errors = out.errors
    if form.get("reward_kind") == "formula":
        base = {
            "kind": "formula",
            "field": (form.get("formula_field") or "").strip(),
            "per": _value(form.get("formula_per") or "1"),
            "points": _int(form, "reward_points", errors) or 1,
            "cap": _int(form, "formula_cap", errors),
        }
        out.origin.update(
            {
                "/rewards/0/field": "formula_field",
                "/rewards/0/per": "formula_per",
                "/rewards/0/cap": "formula_cap",
            }
        )
    else:
        base = {"kind": "fixed", "points": _int(form, "reward_points", errors)}
    out.origin.update(
        {
            "/rewards/0": "reward_points",
            "/rewards/0/points": "reward_points",
            "/rewards": "reward_points",
        }
    )
    rewards.append(base)
    tiers = _factors(form.get("tier_multipliers", ""), "tier_multipliers", errors)
    if tiers:
        out.origin[f"/rewards/{len(rewards)}"] = "tier_multipliers"
        rewards.append({"kind": "tier_multiplier", "tiers": tiers})
    if form.get("offer_id"):
        out.origin[f"/rewards/{len(rewards)}"] = "offer_id"
        rewards.append({"kind": "offer", "offer_id": form["offer_id"]})
    out.doc["rewards"] = rewards


def _parse_limits(form: MultiDict, out: Parsed) -> None:
    per_member = []
    for row in range(int(form.get("limit_rows") or 0)):
        p = f"l{row}_"
        count, points = _int(form, p + "count", out.errors), _int(form, p + "points", out.errors)
        if count is None and points is None:
            continue
        limit = {"period": form.get(p + "period") or "day"}
        days = _int(form, p + "days", out.errors)
        for key, value in (("days", days), ("count", count), ("points", points)):
            if value is not None:
                limit[key] = value
        here = f"/limits/per_member/{len(per_member)}"
        out.origin.update(
            {
                here: p + "count",
                here + "/period": p + "period",
                here + "/days": p + "days",
                here + "/count": p + "count",
                here + "/points": p + "points",
            }
        )
        per_member.append(limit)
    limits: dict = {"per_member": per_member}
    once_per = (form.get("once_per") or "").strip()
    if once_per:
        limits["once_per"] = once_per
    limits["cooldown_seconds"] = _int(form, "cooldown_seconds", out.errors)
    if per_member or len(limits) > 2 or limits["cooldown_seconds"] is not None:
        out.doc["limits"] = limits  # absent when unset: what the API stores for "no limits"
    out.origin.update(
        {
            "/limits/once_per": "once_per",
            "/limits/cooldown_seconds": "cooldown_seconds",
            "/limits": "l0_count",
        }
    )


def field_errors(pointers: dict[str, list[str]], origin: dict[str, str]) -> dict[str, list[str]]:
    """The API's errors (JSON pointer -> messages) by form field: the longest known prefix
    of each pointer names the field; anything unplaced goes to "" (shown above the form)."""
    placed: dict[str, list[str]] = {}
    for pointer, messages in pointers.items():
        target = ""
        probe = pointer
        while probe:
            if probe in origin:
                target = origin[probe]
                break
            probe = probe.rsplit("/", 1)[0]
        where = pointer if target in ("conditions_json", "rewards_json") else None
        placed.setdefault(target, []).extend(f"{where}: {m}" if where else m for m in messages)
    return placed
