"""Rules: create and find the active rules an event type triggers (cached per process)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from flask import current_app

from ..extensions import db
from ..ids import new_id
from ..intake.catalogue import EVIDENCE_LEVELS, known_types
from ..timeutil import utcnow
from .models import Rule


class RuleError(ValueError):
    """A rule cannot be saved as given; the message says why."""


@dataclass(frozen=True)
class RuleView:
    id: str
    version: int
    name: str
    event_type: str
    points: int
    min_evidence: str


def add_rule(
    name: str, event_type: str, points: int, min_evidence: str = "claimed", status="active"
) -> str:
    if event_type not in known_types():
        raise RuleError(f"unknown event type {event_type!r}; known: {', '.join(known_types())}")
    if min_evidence not in EVIDENCE_LEVELS:
        raise RuleError(f"min evidence must be one of {', '.join(EVIDENCE_LEVELS)}")
    if points <= 0:
        raise RuleError("points must be a positive integer")
    now = utcnow()
    rule = Rule(
        id=new_id("rul"),
        name=name,
        event_type=event_type,
        points=points,
        min_evidence=min_evidence,
        status=status,
        version=1,
        created_at=now,
        updated_at=now,
    )
    db.session.add(rule)
    db.session.commit()
    _cache().clear()
    return rule.id


def list_rules() -> list[Rule]:
    return list(db.session.scalars(db.select(Rule).order_by(Rule.created_at)))


class _RuleCache:
    def __init__(self, ttl: float):
        self.ttl = ttl
        self._loaded_at = -1e9
        self._by_type: dict[str, list[RuleView]] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        self._loaded_at = -1e9

    def for_type(self, event_type: str) -> list[RuleView]:
        if time.monotonic() - self._loaded_at >= self.ttl:
            rows = db.session.scalars(db.select(Rule).where(Rule.status == "active"))
            by_type: dict[str, list[RuleView]] = {}
            for r in rows:
                by_type.setdefault(r.event_type, []).append(
                    RuleView(r.id, r.version, r.name, r.event_type, r.points, r.min_evidence)
                )
            with self._lock:
                self._by_type, self._loaded_at = by_type, time.monotonic()
        return self._by_type.get(event_type, [])


def _cache() -> _RuleCache:
    cache = current_app.extensions.get("loyalty_social.rules")
    if cache is None:
        cache = _RuleCache(current_app.config["RULE_CACHE_SECONDS"])
        current_app.extensions["loyalty_social.rules"] = cache
    return cache


def active_rules(event_type: str) -> list[RuleView]:
    """Active rules for a type, from a per-process cache refreshed every RULE_CACHE_SECONDS."""
    return _cache().for_type(event_type)
