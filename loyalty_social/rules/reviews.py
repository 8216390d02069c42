"""Maker-checker: one person writes a rule change, another activates it.

An editor saves a draft (a new rule, or a proposed change to an active one: the live version
keeps paying meanwhile) and requests activation; an approver who neither wrote nor requested
it sees the diff against the active version and activates it or sends it back with a comment.
Each step is one function here, in one transaction with its audit record.
"""

from __future__ import annotations

from .. import audit
from ..extensions import db
from ..timeutil import utcnow
from . import service
from .documents import RuleError, _check_campaign, document, json_safe, validate_document
from .models import Rule, RuleReview

MAX_COMMENT = 2000


class ReviewError(RuleError):
    """A maker-checker step that is not allowed now (409); the message is safe to show."""

    def __init__(self, message: str, status: int = 409):
        super().__init__(message, status=status, slug="rule-not-changeable")


def review_of(rule_id: str) -> RuleReview | None:
    return db.session.get(RuleReview, rule_id)


def proposal(rule: Rule) -> dict | None:
    """The document waiting for review: the draft itself, or the proposed change."""
    review = review_of(rule.id)
    if rule.status == "draft":
        return json_safe(document(rule))
    return review.proposed if review is not None else None


def live(rule: Rule) -> dict | None:
    """The document that pays now (None for a draft: nothing is active yet)."""
    return None if rule.status == "draft" else json_safe(document(rule))


def create_draft(doc: dict, actor: str) -> Rule:
    """A new rule as a draft, written by ``actor`` (who therefore cannot approve it)."""
    rule = service.create_rule(doc, actor=actor, status="draft")
    _open(rule.id, actor, None)
    db.session.commit()
    return rule


def save_draft(rule_id: str, doc: dict, actor: str) -> Rule:
    """Change a draft in place, or propose a change to an active or paused rule (the live
    version is untouched until approved). Any earlier request is withdrawn: it was for
    another text."""
    rule = service.get_rule(rule_id)
    if rule.status == "archived":
        raise ReviewError("An archived rule cannot change.")
    if rule.status == "draft":
        rule = service.update_rule(rule_id, doc, actor=actor, note="draft saved")
        _open(rule.id, actor, None)
    else:
        loaded = validate_document(doc)
        _check_campaign(loaded)
        before = review_of(rule_id)
        _open(rule.id, actor, json_safe(loaded))
        audit.record(
            "rule.change_proposed",
            target=("rule", rule.id),
            before=before.proposed if before is not None else live(rule),
            after=json_safe(loaded),
        )
    db.session.commit()
    return rule


def _open(rule_id: str, actor: str, proposed: dict | None) -> RuleReview:
    review = review_of(rule_id) or RuleReview(rule_id=rule_id)
    review.state = "editing"
    review.proposed = proposed
    review.proposed_by = actor
    review.proposed_at = utcnow()
    review.requested_by = review.requested_at = None
    review.reviewed_by = None
    db.session.add(review)
    return review


def request_activation(rule_id: str, actor: str, note: str | None = None) -> RuleReview:
    rule = service.get_rule(rule_id)
    review = review_of(rule_id)
    if rule.status == "draft" and review is None:
        review = _open(rule_id, rule.updated_by or actor, None)
    if review is None or (rule.status != "draft" and review.proposed is None):
        raise ReviewError("There is no change to activate: save a draft first.")
    if review.state == "requested":
        raise ReviewError("Activation is already requested.")
    review.state = "requested"
    review.requested_by = actor
    review.requested_at = utcnow()
    review.comment = (note or "")[:MAX_COMMENT] or None
    audit.record(
        "rule.activation_requested",
        target=("rule", rule_id),
        after={"proposed_by": review.proposed_by, "note": review.comment},
    )
    db.session.commit()
    return review


def _requested(rule_id: str) -> tuple[Rule, RuleReview]:
    rule = service.get_rule(rule_id, lock=True)
    review = review_of(rule_id)
    if review is None or review.state != "requested":
        raise ReviewError("No activation is requested for this rule.")
    return rule, review


def approve(rule_id: str, actor: str) -> Rule:
    """Activate the requested change. Not by the person who wrote or requested it."""
    rule, review = _requested(rule_id)
    if actor in {review.proposed_by, review.requested_by}:
        raise ReviewError(
            "You wrote or requested this change: another approver must activate it.", 403
        )
    proposed = review.proposed
    audit.record(
        "rule.change_approved",
        target=("rule", rule_id),
        before=live(rule),
        after=proposal(rule),
    )
    db.session.delete(review)
    if rule.status == "draft":
        return service.set_status(rule_id, "active", actor=actor, note="approved and activated")
    return service.update_rule(rule_id, proposed, actor=actor, note="approved change")


def send_back(rule_id: str, actor: str, comment: str) -> RuleReview:
    """Refuse the requested change, saying why; the writer edits and requests again."""
    comment = (comment or "").strip()
    if not comment:
        raise RuleError(
            "Say what should change before sending it back.", {"/comment": ["required"]}
        )
    _rule, review = _requested(rule_id)
    review.state = "sent_back"
    review.comment = comment[:MAX_COMMENT]
    review.reviewed_by = actor
    audit.record(
        "rule.sent_back",
        target=("rule", rule_id),
        after={"comment": review.comment, "proposed_by": review.proposed_by},
    )
    db.session.commit()
    return review


def reviews_by_rule() -> dict[str, RuleReview]:
    return {r.rule_id: r for r in db.session.scalars(db.select(RuleReview))}


def diff(before, after, pointer: str = "") -> list[tuple[str, object, object]]:
    """Every changed leaf as (JSON pointer, before, after); a missing side is None."""
    if before is None and isinstance(after, dict | list):
        before = type(after)()
    if after is None and isinstance(before, dict | list):
        after = type(before)()
    if isinstance(before, dict) and isinstance(after, dict):
        changes = []
        for key in sorted(set(before) | set(after), key=str):
            changes += diff(before.get(key), after.get(key), f"{pointer}/{key}")
        return changes
    if isinstance(before, list) and isinstance(after, list):
        changes = []
        for index in range(max(len(before), len(after))):
            old = before[index] if index < len(before) else None
            new = after[index] if index < len(after) else None
            changes += diff(old, new, f"{pointer}/{index}")
        return changes
    return [] if before == after else [(pointer or "/", before, after)]
