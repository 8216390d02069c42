"""Rules: save (validated, versioned), change status, list; campaigns.

Functions commit: each is one marketer action, and each change empties the per-process cache
of active rules (``active``), which is how evaluation reads rules.
"""

from __future__ import annotations

from .. import audit
from ..extensions import db
from ..ids import new_id
from ..intake.catalogue import EVIDENCE_LEVELS, known_types
from ..timeutil import utcnow
from .active import forget_cached_rules
from .documents import (
    NotFound,
    RuleError,
    _apply,
    _check_campaign,
    _record_version,
    audit_state,
    validate_document,
)
from .models import Campaign, Rule, RuleVersion
from .schemas import CampaignSchema

TRANSITIONS = {
    "draft": {"active", "archived"},
    "active": {"paused", "archived"},
    "paused": {"active", "archived"},
    "archived": set(),
}

STATUS_ACTIONS = {"active": "rule.activated", "paused": "rule.paused", "archived": "rule.archived"}

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
    _record_version(rule, f"created ({status})", actor, now, "rule.created")
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
    before = audit_state(rule)
    _apply(rule, doc)
    rule.version += 1
    rule.updated_at = now
    rule.updated_by = actor
    _record_version(rule, note or "definition changed", actor, now, "rule.updated", before)
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
    before = audit_state(rule)
    previous = rule.status
    rule.status = status
    rule.version += 1
    rule.updated_at = now
    rule.updated_by = actor
    _record_version(
        rule, note or f"{previous} -> {status}", actor, now, STATUS_ACTIONS[status], before
    )
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


def nominal_points(event_type: str) -> int:
    """What one event of this type pays under the active rules, as written (before conditions
    and limits): the portal's "linking earns N points"."""
    return sum(r.points or 0 for r in list_rules(status="active", event_type=event_type))


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
    audit.record("campaign.created", target=("campaign", campaign.id), after=data)
    db.session.commit()
    return campaign


def list_campaigns() -> list[Campaign]:
    return list(db.session.scalars(db.select(Campaign).order_by(Campaign.created_at)))


def get_campaign(campaign_id: str) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"No campaign {campaign_id!r}.")
    return campaign
