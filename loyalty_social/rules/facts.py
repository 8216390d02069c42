"""What evaluation reads: ``Facts`` (the event, the member and their counters, as the fields
conditions and formulas name) and ``Env`` (what evaluation may ask of the world: counters,
consent, linked networks, budgets, "already paid"). Processing, preview and backtests each
supply their own ``Env``, so the three can never disagree about what a rule means."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from ..timeutil import isoformat
from .compiled import ALL_TYPES, CompiledRule
from .limits import (
    GLOBAL,
    LIFE,
    RECEIVED,
    CounterStore,
    day_key,
    local_date,
    month_key,
    period_key,
    window_days,
    zone,
)
from .vocabulary import MISSING


class Facts:
    """The event, the member and their counters, as condition fields."""

    __slots__ = ("days", "env", "event", "member", "values")

    def __init__(self, event, member, env: Env):
        self.event = event
        self.member = member
        self.env = env
        self.values: dict[str, Any] = {}  # a hundred rules read the same few fields
        self.days: dict[str, Any] = {}

    def local_date(self, tz: str):
        day = self.days.get(tz)
        if day is None:
            day = self.days[tz] = local_date(self.event.occurred_at, tz)
        return day

    def get(self, path: str) -> Any:
        try:
            return self.values[path]
        except KeyError:
            value = self.values[path] = self._get(path)
            return value

    def _get(self, path: str) -> Any:
        scope, _, rest = path.partition(".")
        if scope == "data":
            value: Any = self.event.data
            for part in rest.split("."):
                if not isinstance(value, dict) or part not in value:
                    return MISSING
                value = value[part]
            return value
        if scope == "member":
            return self._member(rest)
        if scope == "event":
            return self._event(rest)
        return MISSING

    def _member(self, name: str):
        member, attributes = self.member, (self.member.attributes or {})
        if name == "tier":
            return member.tier if member.tier is not None else MISSING
        if name == "linked_networks":
            return self.env.linked(member.id)
        if name == "advocate_level":  # the scored level; else what the backend said
            level = self.env.advocate_level(member.id)
            return level if level is not None else attributes.get(name, MISSING)
        if name in ("joined_at", "days_since_joined"):
            joined = attributes.get("joined_at") or isoformat(member.created_at)
            if name == "joined_at":
                return str(joined)[:10]
            try:
                at = datetime.fromisoformat(str(joined).replace("Z", "+00:00"))
            except ValueError:
                return MISSING
            if at.tzinfo is None:
                return MISSING
            return max(0, (self.event.occurred_at - at).days)
        if name.startswith("attributes."):
            value: Any = attributes
            for part in name.removeprefix("attributes.").split("."):
                if not isinstance(value, dict) or part not in value:
                    return MISSING
                value = value[part]
            return value
        return attributes.get(name, MISSING)

    def _event(self, name: str):
        event = self.event
        if name == "type":
            return event.type
        if name == "evidence":
            return event.evidence
        if name == "source":
            return event.source_name
        local = event.occurred_at.astimezone(zone(self.env.program_tz))
        if name == "weekday":
            return local.isoweekday()
        if name == "hour":
            return local.hour
        return MISSING

    def counter(self, event_type: str, period: str, days: int | None) -> int:
        scope = f"t:{event_type}"
        day = local_date(self.event.occurred_at, self.env.program_tz)
        store = self.env.counters
        member_id = self.member.id
        if period in ("week", "rolling"):
            buckets = [day_key(d) for d in window_days(period, day, days)]
            return store.total(member_id, buckets, scope).count
        return store.get(member_id, period_key(period, day), scope).count


class Env:
    """What evaluation may ask of the world. Subclasses: processing, preview, backtest."""

    def __init__(
        self,
        counters: CounterStore,
        program_tz: str = "UTC",
        ceiling: int = 0,
        velocity: int = 0,
        count_all: bool = False,
        max_age_days: int = 0,
    ):
        self.counters = counters
        # Count every type together ("t:*") only when something reads it: saves a row a day.
        self.count_all = count_all
        self.program_tz = program_tz
        self.ceiling = ceiling
        self.velocity = velocity
        self.max_age_days = max_age_days
        self._linked: dict[str, list[str]] = {}
        self._levels: dict[str, str | None] = {}
        self._consent: dict[str, str | None] = {}

    # Overridden where the answer comes from the database.
    def awarded_rules(self, event_id: str) -> set[str] | frozenset:
        """Rules that already paid for this event (a replay): they are not decided again."""
        return frozenset()

    def object_removed(self, event) -> bool:
        return False

    def fetch_consent(self, member_id: str) -> str | None:
        return None

    def fetch_linked(self, member_id: str) -> list[str]:
        return []

    def fetch_levels(self, member_ids: list[str]) -> dict[str, str]:
        """Scored members' advocate levels (the others are not scored)."""
        return {}

    def prefetch_levels(self, member_ids: list[str], rules) -> None:
        """Levels for a whole batch in one query, when a rule reads them."""
        if any(rule.needs_level for rule in rules):
            levels = self.fetch_levels(member_ids)
            self._levels.update({m: levels.get(m) for m in member_ids})

    def take_budget(self, rule: CompiledRule, points: int) -> str | None:
        """Consume the rule's (and its campaign's) budget; words when exhausted."""
        return None

    def offer_refusals(self, member_id: str, offer_ids: list[str]) -> dict[str, str]:
        """Offer id -> why the member cannot get it now (sold out, ...); others can."""
        return {}

    def take_offers(self, member_id: str, offer_ids: list[str]) -> None:
        """These offers go to the member (the grant follows when the award is paid)."""

    # Cached per batch: one lookup per member, however many rules ask.
    def consent(self, member_id: str) -> str | None:
        if member_id not in self._consent:
            self._consent[member_id] = self.fetch_consent(member_id)
        return self._consent[member_id]

    def advocate_level(self, member_id: str) -> str | None:
        if member_id not in self._levels:
            self._levels[member_id] = self.fetch_levels([member_id]).get(member_id)
        return self._levels[member_id]

    def linked(self, member_id: str) -> list[str]:
        if member_id not in self._linked:
            self._linked[member_id] = self.fetch_linked(member_id)
        return self._linked[member_id]

    def flagged(self, member) -> bool:
        """Velocity check: more events today than VELOCITY_MAX_EVENTS_PER_DAY, or flagged
        by the backend (member attribute ``flagged``)."""
        return bool((member.attributes or {}).get("flagged"))

    def receipt_day(self, event) -> date:
        """The day (program time zone) we received the event: the daily ceiling and the
        velocity check count by it, so a sender's backdated timestamps cannot spread one
        day's activity over many days' allowances."""
        received = getattr(event, "received_at", None) or event.occurred_at
        return local_date(received, self.program_tz)

    def too_old(self, event) -> str | None:
        """Why an event is too old to earn anything (MAX_EVENT_AGE_DAYS between its timestamp
        and its receipt), or None."""
        received = getattr(event, "received_at", None)
        if not self.max_age_days or received is None:
            return None
        age = received - event.occurred_at
        if age <= timedelta(days=self.max_age_days):
            return None
        return (
            f"the activity is dated {event.occurred_at.date().isoformat()}, {age.days} days "
            f"before we received it; activity more than {self.max_age_days} days old earns "
            "nothing"
        )

    def activity_keys(self, event, counters, streaks=()) -> set[tuple[str, str, str]]:
        """The counter cells this event's checks read: its rules' conditions (``counters``:
        the ``(event_type, period, days)`` they read), the velocity check and the daily points
        ceiling. The activity cells every event writes are increments: only those read are
        loaded."""
        day = local_date(event.occurred_at, self.program_tz)
        member_id = event.member_id
        keys = set()
        for event_type, period, days in counters:
            scope = f"t:{event_type}"
            if period in ("week", "rolling"):
                keys.update((member_id, day_key(d), scope) for d in window_days(period, day, days))
            else:
                keys.add((member_id, period_key(period, day), scope))
        for spec in streaks:  # the day a qualifying event counts in
            keys.add((member_id, day_key(local_date(event.occurred_at, spec.tz)), spec.scope))
        if self.velocity or self.ceiling:
            received = day_key(self.receipt_day(event))
            if self.velocity:
                keys.add((member_id, received, RECEIVED))
            if self.ceiling:
                keys.add((member_id, received, GLOBAL))
        return keys

    def activity_scopes(self, event) -> tuple[str, ...]:
        if self.count_all:
            return (f"t:{event.type}", f"t:{ALL_TYPES}")
        return (f"t:{event.type}",)

    def count_activity(self, event, streaks=(), facts: Facts | None = None, member=None) -> None:
        """Count the event in the member's activity counters and in the day cells of the
        streaks it qualifies for (``streaks``: the rule set's for its type), before rules
        read them."""
        if streaks:
            facts = facts or Facts(event, member, self)
            for spec in streaks:
                spec.count(facts, self.counters)
        day = local_date(event.occurred_at, self.program_tz)
        for scope in self.activity_scopes(event):
            for bucket in (day_key(day), month_key(day), LIFE):
                self.counters.add(event.member_id, bucket, scope, 1, 0, event.occurred_at)
        if self.velocity:
            received = day_key(self.receipt_day(event))
            self.counters.add(event.member_id, received, RECEIVED, 1, 0, None)

    def velocity_exceeded(self, event) -> bool:
        """More events received today than VELOCITY_MAX_EVENTS_PER_DAY (whatever their dates)."""
        if not self.velocity:
            return False
        received = day_key(self.receipt_day(event))
        return self.counters.get(event.member_id, received, RECEIVED).count > self.velocity
