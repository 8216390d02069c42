"""Rules: save (validated, versioned), change status, find the active ones (cached per process).

Functions commit: each is one marketer action. Evaluation reads rules only through
``active_rules`` (compiled, indexed by event type, refreshed every RULE_CACHE_SECONDS).
"""

from __future__ import annotations

import threading
import time
from datetime import datetime

from flask import current_app
from marshmallow import ValidationError
from sqlalchemy import bindparam, update

from ..extensions import db
from ..ids import new_id
from ..intake.catalogue import EVIDENCE_LEVELS, known_types
from ..sql import insert_ignoring_duplicates
from ..timeutil import isoformat, utcnow
from .evaluation import CompiledRule, compile_rule
from .index import RuleSet
from .models import Campaign, Rule, RuleSetSnapshot, RuleVersion
from .schemas import CampaignSchema, RuleSchema

TRANSITIONS = {
    "draft": {"active", "archived"},
    "active": {"paused", "archived"},
    "paused": {"active", "archived"},
    "archived": set(),
}
DEFINITION_KEYS = ("conditions", "rewards", "evidence", "limits", "targeted", "hold")


class RuleError(ValueError):
    """A rule cannot be saved as given; ``errors`` maps JSON pointers to messages."""

    def __init__(self, message: str, errors: dict | None = None, status: int = 422, slug: str = ""):
        super().__init__(message)
        self.errors = errors or {}
        self.status = status
        self.slug = slug or ("rule-not-changeable" if status == 409 else "invalid-rule")


class NotFound(LookupError):
    pass


# --- Documents -----------------------------------------------------------------------------


def validate_document(doc: dict, schema: RuleSchema | None = None) -> dict:
    """The rule document, validated and normalised; RuleError naming every offending part."""
    try:
        return (schema or RuleSchema()).load(doc)
    except ValidationError as error:
        messages = error.messages if isinstance(error.messages, dict) else {"": error.messages}
        raise RuleError(_first_message(messages), _pointers(messages)) from None


def _pointers(messages: dict, prefix: str = "") -> dict:
    """marshmallow's nested messages as {"/json/pointer": [...]}."""
    flat: dict = {}
    for key, value in messages.items():
        key = str(key)
        pointer = key if key.startswith("/") else f"{prefix}/{key}"
        if key == "_schema":
            pointer = prefix or "/"
        if isinstance(value, dict):
            flat.update(_pointers(value, pointer))
        else:
            flat.setdefault(pointer, []).extend(value if isinstance(value, list) else [value])
    return flat


def _first_message(messages: dict) -> str:
    flat = _pointers(messages)
    pointer, texts = next(iter(flat.items()))
    return f"{pointer}: {texts[0]}"


def _json_safe(value):
    if isinstance(value, datetime):
        return isoformat(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def document(rule: Rule) -> dict:
    """The rule in its wire format (what marketers wrote), from its columns and definition."""
    definition = rule.definition or {
        "conditions": None,
        "rewards": [{"kind": "fixed", "points": rule.points}],
        "evidence": {"min": rule.min_evidence},
        "limits": {},
        "targeted": False,
        "hold": {},
    }
    return {
        "name": rule.name,
        "description": rule.description,
        "event_types": list(rule.event_types or [rule.event_type]),
        "conditions": definition.get("conditions"),
        "rewards": definition.get("rewards") or [],
        "evidence": definition.get("evidence") or {"min": rule.min_evidence},
        "limits": definition.get("limits") or {},
        "budget": {"points": rule.budget_points, "count": rule.budget_count},
        "campaign_id": rule.campaign_id,
        "schedule": {
            "starts_at": rule.starts_at,
            "ends_at": rule.ends_at,
            "timezone": rule.timezone or "UTC",
        },
        "priority": rule.priority if rule.priority is not None else 100,
        "exclusive": bool(rule.exclusive),
        "targeted": bool(definition.get("targeted")),
        "hold": definition.get("hold") or {},
    }


def view(rule: Rule) -> dict:
    """The rule for the API: its document, status, version, budget spent, who and when."""
    return {
        **document(rule),
        "id": rule.id,
        "status": rule.status,
        "version": rule.version,
        "spent": {"points": rule.spent_points or 0, "count": rule.spent_count or 0},
        "created_at": rule.created_at,
        "updated_at": rule.updated_at,
        "created_by": rule.created_by,
        "updated_by": rule.updated_by,
    }


def _apply(rule: Rule, doc: dict) -> None:
    schedule, budget = doc.get("schedule") or {}, doc.get("budget") or {}
    rule.name = doc["name"]
    rule.description = doc.get("description")
    rule.event_types = list(doc["event_types"])
    rule.event_type = doc["event_types"][0]
    rule.definition = _json_safe({k: doc.get(k) for k in DEFINITION_KEYS})
    rule.priority = doc.get("priority", 100)
    rule.exclusive = bool(doc.get("exclusive"))
    rule.campaign_id = doc.get("campaign_id")
    rule.starts_at = schedule.get("starts_at")
    rule.ends_at = schedule.get("ends_at")
    rule.timezone = schedule.get("timezone") or "UTC"
    rule.budget_points = budget.get("points")
    rule.budget_count = budget.get("count")
    rule.min_evidence = (doc.get("evidence") or {}).get("min") or "claimed"
    rule.points = compile_rule(doc, "check", 0, "draft").plan.nominal_points()


def _check_campaign(doc: dict) -> None:
    campaign_id = doc.get("campaign_id")
    if campaign_id and db.session.get(Campaign, campaign_id) is None:
        raise RuleError(
            f"/campaign_id: no campaign {campaign_id!r}",
            {"/campaign_id": [f"no campaign {campaign_id!r}"]},
            status=409,
            slug="rule-reference-missing",
        )
    for index, reward in enumerate(doc.get("rewards") or []):
        if reward.get("kind") == "offer":
            from ..rewards.offers import offer_exists

            if not offer_exists(reward["offer_id"]):
                pointer = f"/rewards/{index}/offer_id"
                raise RuleError(
                    f"{pointer}: no offer {reward['offer_id']!r}",
                    {pointer: [f"no offer {reward['offer_id']!r}"]},
                    status=409,
                    slug="rule-reference-missing",
                )


def _record_version(rule: Rule, change: str, actor: str | None, now) -> None:
    db.session.add(
        RuleVersion(
            rule_id=rule.id,
            version=rule.version,
            status=rule.status,
            snapshot=_json_safe(document(rule)),
            change=change[:200],
            changed_by=actor,
            changed_at=now,
        )
    )


# --- Saving --------------------------------------------------------------------------------


def create_rule(
    doc: dict, actor: str | None = None, status: str = "draft", loaded: bool = False
) -> Rule:
    """Save a new rule (``loaded``: ``doc`` was already loaded by ``RuleSchema``)."""
    doc = doc if loaded else validate_document(doc)
    _check_campaign(doc)
    if status not in ("draft", "active"):
        raise RuleError("a new rule is a draft or active", {"/status": ["draft or active"]})
    now = utcnow()
    rule = Rule(
        id=new_id("rul"),
        status=status,
        version=1,
        created_at=now,
        updated_at=now,
        created_by=actor,
        updated_by=actor,
        spent_points=0,
        spent_count=0,
    )
    _apply(rule, doc)
    db.session.add(rule)
    db.session.flush()
    _record_version(rule, f"created ({status})", actor, now)
    db.session.commit()
    forget_cached_rules()
    return rule


def add_rule(
    name: str, event_type: str, points: int, min_evidence: str = "claimed", status="active"
) -> str:
    """The simple kind: "event type X gives N points" (CLI, demo, tests)."""
    if event_type not in known_types():
        raise RuleError(f"unknown event type {event_type!r}; known: {', '.join(known_types())}")
    if min_evidence not in EVIDENCE_LEVELS:
        raise RuleError(f"min evidence must be one of {', '.join(EVIDENCE_LEVELS)}")
    if not isinstance(points, int) or points <= 0:
        raise RuleError("points must be a positive integer")
    doc = {
        "name": name,
        "event_types": [event_type],
        "rewards": [{"kind": "fixed", "points": points}],
        "evidence": {"min": min_evidence},
    }
    return create_rule(doc, actor="cli", status=status).id


def update_rule(
    rule_id: str,
    doc: dict,
    actor: str | None = None,
    note: str | None = None,
    loaded: bool = False,
):
    """Replace the definition: a new version (awards keep the version that produced them)."""
    rule = get_rule(rule_id, lock=True)
    if rule.status == "archived":
        raise RuleError("an archived rule cannot change", status=409)
    doc = doc if loaded else validate_document(doc)
    _check_campaign(doc)
    now = utcnow()
    _apply(rule, doc)
    rule.version += 1
    rule.updated_at = now
    rule.updated_by = actor
    _record_version(rule, note or "definition changed", actor, now)
    db.session.commit()
    forget_cached_rules()
    return rule


def set_status(rule_id: str, status: str, actor: str | None = None, note: str | None = None):
    """draft -> active -> paused <-> active -> archived (each change a version)."""
    rule = get_rule(rule_id, lock=True)
    if status not in TRANSITIONS.get(rule.status, set()):
        allowed = ", ".join(sorted(TRANSITIONS.get(rule.status, ()))) or "none"
        raise RuleError(
            f"a {rule.status} rule cannot become {status} (allowed: {allowed})", status=409
        )
    now = utcnow()
    previous = rule.status
    rule.status = status
    rule.version += 1
    rule.updated_at = now
    rule.updated_by = actor
    _record_version(rule, note or f"{previous} -> {status}", actor, now)
    db.session.commit()
    forget_cached_rules()
    return rule


def get_rule(rule_id: str, lock: bool = False) -> Rule:
    rule = db.session.get(Rule, rule_id, with_for_update=lock or None)
    if rule is None:
        raise NotFound(f"No rule {rule_id!r}.")
    return rule


def list_rules(status: str | None = None, event_type: str | None = None) -> list[Rule]:
    query = db.select(Rule).order_by(Rule.created_at, Rule.id)
    if status:
        query = query.where(Rule.status == status)
    rules = list(db.session.scalars(query))
    if event_type:
        rules = [r for r in rules if event_type in (r.event_types or [r.event_type])]
    return rules


def versions(rule_id: str) -> list[RuleVersion]:
    get_rule(rule_id)
    return list(
        db.session.scalars(
            db.select(RuleVersion)
            .where(RuleVersion.rule_id == rule_id)
            .order_by(RuleVersion.version.desc())
        )
    )


def rule_names(rule_ids) -> dict[str, str]:
    ids = sorted(set(rule_ids))
    if not ids:
        return {}
    return dict(db.session.execute(db.select(Rule.id, Rule.name).where(Rule.id.in_(ids))).all())


def compiled(rule: Rule) -> CompiledRule:
    return compile_rule(document(rule), rule.id, rule.version, rule.status)


# --- Campaigns -----------------------------------------------------------------------------


def create_campaign(data: dict, actor: str | None = None) -> Campaign:
    data = CampaignSchema().load(data)
    campaign = Campaign(
        id=new_id("cmp"),
        name=data["name"],
        budget_points=data.get("budget_points"),
        budget_count=data.get("budget_count"),
        spent_points=0,
        spent_count=0,
        created_at=utcnow(),
        created_by=actor,
    )
    db.session.add(campaign)
    db.session.commit()
    return campaign


def list_campaigns() -> list[Campaign]:
    return list(db.session.scalars(db.select(Campaign).order_by(Campaign.created_at)))


def get_campaign(campaign_id: str) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"No campaign {campaign_id!r}.")
    return campaign


# --- Budgets (shared across members: locked for the batch, spent in memory) ----------------


class Budgets:
    """The rule and campaign budgets a batch may spend, locked for its transaction.

    The rows are read FOR UPDATE up front in one global order (rules, then campaigns, each
    sorted), so two workers paying under the same rules never deadlock and never spend the
    same points: the second waits for the first's commit and then reads what is left. Awards
    spend from these copies; ``flush`` writes the new totals, one statement per table, in the
    batch's transaction. (An UPDATE per award cost more than evaluating the award.)
    """

    def __init__(self, rules: list[CompiledRule]):
        self.rows: dict[tuple[str, str], list] = {}
        self.dirty: set[tuple[str, str]] = set()
        wanted = (
            ("rule", Rule, sorted({r.id for r in rules if r.has_budget})),
            ("campaign", Campaign, sorted({r.campaign_id for r in rules if r.campaign_id})),
        )
        for kind, model, ids in wanted:
            if not ids:
                continue
            query = (
                db.select(
                    model.id,
                    model.budget_points,
                    model.budget_count,
                    model.spent_points,
                    model.spent_count,
                )
                .where(model.id.in_(ids))
                .order_by(model.id)
                .with_for_update()
            )
            for row_id, *values in db.session.execute(query):
                self.rows[(kind, row_id)] = values

    def take(self, rule: CompiledRule, points: int) -> str | None:
        """Spend the rule's and its campaign's budget; words when either is spent."""
        keys = []
        if rule.has_budget:
            keys.append(("rule", rule.id))
        if rule.campaign_id:
            keys.append(("campaign", rule.campaign_id))
        for kind, row_id in keys:
            row = self.rows.get((kind, row_id))
            if row is None:
                return f"the {kind}'s budget is spent (unknown {kind})"
            budget_points, budget_count, spent_points, spent_count = row
            if (budget_points is not None and spent_points + points > budget_points) or (
                budget_count is not None and spent_count + 1 > budget_count
            ):
                return (
                    f"the {kind}'s budget is spent ({_budget_words(budget_points, budget_count)})"
                )
        for key in keys:
            row = self.rows[key]
            row[2] += points
            row[3] += 1
            self.dirty.add(key)
        return None

    def flush(self) -> None:
        connection = db.session.connection()
        for kind, model in (("rule", Rule), ("campaign", Campaign)):
            changes = [
                {"b_id": row_id, "b_points": row[2], "b_count": row[3]}
                for (k, row_id), row in sorted((key, self.rows[key]) for key in self.dirty)
                if k == kind
            ]
            if changes:
                table = model.__table__
                statement = (
                    update(table)
                    .where(table.c.id == bindparam("b_id"))
                    .values(spent_points=bindparam("b_points"), spent_count=bindparam("b_count"))
                )
                connection.execute(statement, changes)
        self.dirty.clear()


def _budget_words(points, count) -> str:
    parts = [f"{points} points" if points else "", f"{count} awards" if count else ""]
    return " / ".join(p for p in parts if p) or "none"


def _release(table, row_id: str, points: int) -> None:
    c = table.c
    db.session.execute(
        update(table)
        .where(c.id == row_id)
        .values(spent_points=c.spent_points - points, spent_count=c.spent_count - 1)
    )


def release_budget(rule_id: str, campaign_id: str | None, points: int, had_budget: bool) -> None:
    """Give back what a rejected held award consumed."""
    if had_budget:
        _release(Rule.__table__, rule_id, points)
    if campaign_id:
        _release(Campaign.__table__, campaign_id, points)


# --- The per-process cache of active rules --------------------------------------------------


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
                rule = compiled(row)
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


# --- Held awards: release what they held ----------------------------------------------------


def release_award(award, store) -> None:
    """Give back the limits and budget a held award consumed (it was rejected).

    The caller holds the member's row lock (counters are the member's) and flushes ``store``.
    """
    details = award.details or {}
    for member_id, bucket, scope in details.get("limit_keys") or []:
        store.add(member_id, bucket, scope, -1, -award.points, None)
    release_budget(award.rule_id, award.campaign_id, award.points, bool(details.get("rule_budget")))


def reject_held(award_id: str, actor: str | None, reason: str):
    """A marketer refuses a held award: rejected, its limits and budget given back."""
    from ..rewards import service as rewards
    from .limits import CounterStore

    award = rewards.reject(award_id, actor, reason)
    store = CounterStore()
    release_award(award, store)
    store.flush()
    db.session.commit()
    return award


def approve_held(award_id: str, actor: str | None):
    from ..rewards import service as rewards

    award = rewards.approve(award_id, actor)
    db.session.commit()
    return award
