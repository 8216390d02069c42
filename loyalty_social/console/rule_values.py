"""A saved rule document as the rule form's values (``rule_form`` reads them back): the
structured fields where the shape fits them, the advanced JSON editors where it does not."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from .rule_form import EXTRA_ROWS, MAX_WHERE_ROWS, _show


def values(doc: dict | None) -> dict:
    """A rule document as the form's values (the advanced editors when the shape needs them)."""
    doc = doc or {}
    schedule, zone = doc.get("schedule") or {}, (doc.get("schedule") or {}).get("timezone") or "UTC"
    evidence, limits = doc.get("evidence") or {}, doc.get("limits") or {}
    budget, hold = doc.get("budget") or {}, doc.get("hold") or {}
    form = {
        "name": doc.get("name") or "",
        "description": doc.get("description") or "",
        "event_types": list(doc.get("event_types") or []),
        "evidence_min": evidence.get("min") or "claimed",
        "evidence_scale": _pairs(evidence.get("scale")),
        "once_per": limits.get("once_per") or "",
        "cooldown_seconds": _show(limits.get("cooldown_seconds")),
        "budget_points": _show(budget.get("points")),
        "budget_count": _show(budget.get("count")),
        "campaign_id": doc.get("campaign_id") or "",
        "timezone": zone,
        "starts_at": _local(schedule.get("starts_at"), zone),
        "ends_at": _local(schedule.get("ends_at"), zone),
        "priority": _show(doc.get("priority", 100)),
        "exclusive": bool(doc.get("exclusive")),
        "targeted": bool(doc.get("targeted")),
        "hold_above_points": _show(hold.get("above_points")),
        "hold_flagged_members": bool(hold.get("flagged_members")),
        "limit_rows": [
            {k: _show(limit.get(k)) for k in ("period", "days", "count", "points")}
            for limit in limits.get("per_member") or []
        ],
    }
    form["limit_rows"] += [{"period": "day"}] * EXTRA_ROWS
    form.update(_condition_values(doc.get("conditions")))
    form.update(_reward_values(doc.get("rewards") or []))
    return form


def _condition_values(tree) -> dict:
    rows, match = [], "all"
    simple = tree is None
    if isinstance(tree, dict) and len(tree) == 1 and next(iter(tree)) in ("all", "any"):
        match = next(iter(tree))
        clauses = tree[match] if isinstance(tree[match], list) else None
        simple = clauses is not None and all(_is_simple(c) for c in clauses)
        if simple:
            rows = [_row(c) for c in clauses]
    elif isinstance(tree, dict) and _is_simple(tree):
        simple, rows = True, [_row(tree)]
    return {
        "conditions_mode": "simple" if simple else "json",
        "match": match,
        "condition_rows": rows + [_row({"op": "eq"})] * EXTRA_ROWS,
        "conditions_json": json.dumps(tree, indent=2) if tree is not None else "",
    }


def _is_simple(clause, negatable: bool = True) -> bool:
    if negatable and isinstance(clause, dict) and set(clause) == {"not"}:
        return _is_simple(clause["not"], negatable=False)  # a negated row, not a group
    if isinstance(clause, dict) and set(clause) == {"streak"}:
        return _is_simple_streak(clause["streak"])
    if not isinstance(clause, dict) or not isinstance(clause.get("op"), str):
        return False
    if "field" in clause:
        return set(clause) <= {"field", "op", "value"}
    counter = clause.get("counter")
    return isinstance(counter, dict) and set(clause) <= {"counter", "op", "value"}


def _is_simple_streak(spec) -> bool:
    """A streak the row shows whole: known keys, and field clauses the where rows can hold."""
    if not isinstance(spec, dict) or not set(spec) <= {"event_type", "days", "where"}:
        return False
    where = spec.get("where", [])
    return (
        isinstance(where, list)
        and len(where) <= MAX_WHERE_ROWS
        and all(_is_simple(c, negatable=False) and "field" in c for c in where)
    )


def _row(clause: dict) -> dict:
    if set(clause) == {"not"}:
        return {**_row(clause["not"]), "negate": True}
    spec = clause.get("streak") or {}
    where = [
        {"field": c["field"], "op": c["op"], "value": _show(c.get("value"))}
        for c in spec.get("where") or []
    ]
    extra = min(EXTRA_ROWS, MAX_WHERE_ROWS - len(where))
    counter = clause.get("counter") or {}
    return {
        "kind": "streak" if spec else "counter" if counter else "field",
        "negate": False,
        "streak_type": spec.get("event_type", ""),
        "streak_days": _show(spec.get("days")),
        "where_rows": where + [{"op": "eq"}] * extra,
        "field": clause.get("field", ""),
        "op": clause.get("op", "eq"),
        "value": _show(clause.get("value")),
        "counter_type": counter.get("event_type", ""),
        "counter_period": counter.get("period", "lifetime"),
        "counter_days": _show(counter.get("days")),
    }


def _reward_values(rewards: list) -> dict:
    kinds = [r.get("kind") for r in rewards if isinstance(r, dict)]
    simple = (
        len(kinds) == len(rewards)
        and bool(kinds)
        and kinds[0] in ("fixed", "formula")
        and all(kinds.count(k) <= 1 for k in ("tier_multiplier", "offer"))
        and set(kinds[1:]) <= {"tier_multiplier", "offer"}
    )
    out = {
        "rewards_mode": "simple" if simple or not rewards else "json",
        "rewards_json": json.dumps(rewards, indent=2) if rewards else "",
        "reward_kind": "fixed",
        "reward_points": "",
        "formula_field": "",
        "formula_per": "1",
        "formula_cap": "",
        "tier_multipliers": "",
        "offer_id": "",
    }
    if not simple:
        return out
    base = rewards[0]
    out.update(reward_kind=base["kind"], reward_points=_show(base.get("points")))
    if base["kind"] == "formula":
        out.update(
            formula_field=base.get("field", ""),
            formula_per=_show(base.get("per", 1)),
            formula_cap=_show(base.get("cap")),
        )
    for reward in rewards[1:]:
        if reward["kind"] == "tier_multiplier":
            out["tier_multipliers"] = _pairs(reward.get("tiers"))
        else:
            out["offer_id"] = reward.get("offer_id", "")
    return out


def _pairs(factors) -> str:
    if not isinstance(factors, dict):
        return ""
    return ", ".join(
        f"{k}={v:g}" if isinstance(v, int | float) else f"{k}={v}" for k, v in factors.items()
    )


def _local(value, zone: str) -> str:
    """An ISO time as the rule's local "YYYY-MM-DDTHH:MM" (a datetime-local input)."""
    if not value:
        return ""
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
        return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")
    except (ValueError, KeyError):
        return ""
