"""A rule's document: the wire format marketers write, validated, stored in the rule's columns
and definition, read back (``document``, ``view``), compiled (``compile_saved``) and kept as a
version snapshot."""

from __future__ import annotations

from datetime import datetime

from marshmallow import ValidationError

from .. import audit
from ..extensions import db
from ..rewards.offers import offer_exists
from ..timeutil import isoformat
from .compiled import CompiledRule, compile_rule
from .models import Campaign, Rule, RuleVersion
from .schemas import RuleSchema

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


def json_safe(value):
    if isinstance(value, datetime):
        return isoformat(value)
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
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
    rule.definition = json_safe({k: doc.get(k) for k in DEFINITION_KEYS})
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
        if reward.get("kind") == "offer" and not offer_exists(reward["offer_id"]):
            pointer = f"/rewards/{index}/offer_id"
            raise RuleError(
                f"{pointer}: no offer {reward['offer_id']!r}",
                {pointer: [f"no offer {reward['offer_id']!r}"]},
                status=409,
                slug="rule-reference-missing",
            )


def audit_state(rule: Rule) -> dict:
    """What the audit log keeps of a rule before and after a change."""
    return {**json_safe(document(rule)), "status": rule.status, "version": rule.version}


def _record_version(
    rule: Rule, change: str, actor: str | None, now, action: str, before: dict | None = None
) -> None:
    """The rule's own history (a version) and the audit log's row, in the same write."""
    snapshot = json_safe(document(rule))
    db.session.add(
        RuleVersion(
            rule_id=rule.id,
            version=rule.version,
            status=rule.status,
            snapshot=snapshot,
            change=change[:200],
            changed_by=actor,
            changed_at=now,
        )
    )
    after = {**snapshot, "status": rule.status, "version": rule.version}
    audit.record(action, target=("rule", rule.id), before=before, after=after)


def compile_saved(rule: Rule) -> CompiledRule:
    return compile_rule(document(rule), rule.id, rule.version, rule.status)
