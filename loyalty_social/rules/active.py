"""The active rules, compiled and indexed, cached per process (recompiled only when a rule
changed), and the rule-set snapshots explanations read."""

from __future__ import annotations

import threading
import time

from flask import current_app

from ..extensions import db
from ..sql import insert_ignoring_duplicates
from ..timeutil import utcnow
from .compiled import CompiledRule
from .documents import compile_saved
from .index import RuleSet
from .models import Rule, RuleSetSnapshot


class _RuleCache:
    def __init__(self, ttl: float):
        self.ttl = ttl
        self._loaded_at = -1e9
        self._rule_set = RuleSet.build({})
        self._stamp = None
        self._lock = threading.Lock()
        self.stored: set[str] = set()  # rule set ids known to be in the database

    def clear(self) -> None:
        self._loaded_at = -1e9
        self._stamp = None

    def snapshot(self) -> RuleSet:
        if time.monotonic() - self._loaded_at >= self.ttl:
            # Recompiling a thousand rules costs a second: only when something changed
            # (every change bumps updated_at; creation adds a row).
            stamp = tuple(
                db.session.execute(db.select(db.func.count(), db.func.max(Rule.updated_at))).one()
            )
            if stamp == self._stamp:
                self._loaded_at = time.monotonic()
                return self._rule_set
            rows = db.session.scalars(db.select(Rule).where(Rule.status == "active"))
            by_type: dict[str, list[CompiledRule]] = {}
            for row in rows:
                rule = compile_saved(row)
                for event_type in rule.event_types:
                    by_type.setdefault(event_type, []).append(rule)
            for rules in by_type.values():
                rules.sort(key=lambda r: (-r.priority, r.id))
            rule_set = RuleSet.build(by_type)
            with self._lock:
                self._rule_set, self._loaded_at = rule_set, time.monotonic()
                self._stamp = stamp
        return self._rule_set


def _cache() -> _RuleCache:
    cache = current_app.extensions.get("loyalty_social.rules")
    if cache is None:
        cache = _RuleCache(current_app.config["RULE_CACHE_SECONDS"])
        current_app.extensions["loyalty_social.rules"] = cache
    return cache


def forget_cached_rules() -> None:
    _cache().clear()


def active_rules(event_type: str) -> list[CompiledRule]:
    """Active rules listening to a type, highest priority first (cached per process)."""
    return _cache().snapshot().rules(event_type)


def active_rule_set() -> RuleSet:
    """Every active rule, indexed (cached per process, recompiled when a rule changes)."""
    return _cache().snapshot()


def store_rule_set(rule_set: RuleSet) -> None:
    """Write the snapshot explanations will read, in the caller's transaction, once per
    process and rule set (call ``rule_set_stored`` after the commit)."""
    if not rule_set.gates or rule_set.id in _cache().stored:
        return
    insert_ignoring_duplicates(
        db.session.connection(),
        RuleSetSnapshot.__table__,
        [{"id": rule_set.id, "gates": rule_set.gates, "created_at": utcnow()}],
        ["id"],
    )


def rule_set_stored(rule_set: RuleSet) -> None:
    _cache().stored.add(rule_set.id)
