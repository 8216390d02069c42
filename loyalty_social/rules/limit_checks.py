"""Limit checks: whether an award fits the rule's member limits (periods, once per object,
cooldown) and the member's daily ceiling, and counting it in every cell those limits read.
The decision order that calls them is in ``evaluation``."""

from __future__ import annotations

from datetime import timedelta

from ..timeutil import isoformat
from .facts import Env
from .limits import (
    GLOBAL,
    LIFE,
    Hit,
    day_key,
    frees_at,
    object_key,
    period_end,
    period_key,
)


def check_limits(rule, event, member_id, facts, env: Env, points: int) -> Hit | None:
    store = env.counters
    scope = rule.scope
    day = facts.local_date(rule.tz)  # computed once per event, whatever reads it
    for limit in rule.period_limits:
        for window in limit.windows(day):
            cell = store.total(member_id, window, scope)
            over_count = limit.count is not None and cell.count + 1 > limit.count
            over_points = limit.points is not None and cell.points + points > limit.points
            if over_count or over_points:
                break
        if over_count or over_points:
            when = frees_at(limit, store, member_id, scope, day, rule.tz)
            used = (
                f"{cell.count} award(s) so far"
                if over_count
                else f"{cell.points} points so far, this would add {points}"
            )
            words = f"{used}; " + (
                f"frees up at {isoformat(when)}" if when else "it does not free up"
            )
            return Hit("limit", f"the limit of {limit.describe()}", words, when)
    if rule.once_per:
        value = rule.object_value(event, facts)
        if value is None:
            return Hit("limit", "once per object", "the activity names no object", None)
        if store.get(member_id, object_key(value), scope).count:
            what = "object" if rule.once_per == "object" else rule.once_per.split(".")[-1]
            return Hit(
                "limit",
                "once per object",
                f"this {what} ({value}) was already rewarded; it does not free up",
                None,
            )
    if rule.cooldown:
        last = store.get(member_id, LIFE, scope).last_at
        if last is not None and event.occurred_at < last + timedelta(seconds=rule.cooldown):
            when = last + timedelta(seconds=rule.cooldown)
            return Hit(
                "limit",
                f"the cooldown of {rule.cooldown} seconds",
                f"last award at {isoformat(last)}; frees up at {isoformat(when)}",
                when,
            )
    if env.ceiling:
        gday = env.receipt_day(event)
        cell = store.get(member_id, day_key(gday), GLOBAL)
        if cell.points + points > env.ceiling:
            when = period_end("day", gday, env.program_tz)
            return Hit(
                "ceiling",
                f"the daily ceiling of {env.ceiling} points across all rules",
                f"{cell.points} points today, this would add {points}; "
                f"frees up at {isoformat(when)}",
                when,
            )
    return None


def consume_limits(rule, event, member_id, facts, env: Env, points: int) -> list:
    """Count the award in every cell its limits read; returns the cells (to release later)."""
    store = env.counters
    scope = rule.scope
    day = facts.local_date(rule.tz)  # computed once per event, whatever reads it
    buckets = set()
    for limit in rule.period_limits:
        buckets.add(day_key(day) if limit.period == "rolling" else period_key(limit.period, day))
    if rule.cooldown:
        buckets.add(LIFE)
    value = rule.object_value(event, facts)
    if value is not None:
        buckets.add(object_key(value))
    keys = [[member_id, b, scope] for b in sorted(buckets)]
    if env.ceiling:
        keys.append([member_id, day_key(env.receipt_day(event)), GLOBAL])
    for m, b, s in keys:
        store.add(m, b, s, 1, points, event.occurred_at)
    return keys
