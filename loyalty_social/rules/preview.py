"""Preview: one draft (or saved) rule, one sample event, one member: what would happen, and
every clause's result. Reads the member's real counters, consent and budgets; writes nothing."""

from __future__ import annotations

from types import SimpleNamespace

from flask import current_app
from marshmallow import ValidationError

from ..extensions import db
from ..identity import service as identity
from ..intake.catalogue import lookup
from ..timeutil import utcnow
from . import documents, service
from .compiled import compile_rule
from .evaluation import decide, sample_event
from .facts import Env, Facts
from .limits import ReadOnlyCounterStore
from .models import Campaign, Rule
from .processing import REMOVED_BY, ProcessingEnv


class PreviewEnv(ProcessingEnv):
    """Real consent, linked networks and counters; budgets checked, never consumed."""

    def take_budget(self, rule, points):
        for model, row_id in (
            (Rule, rule.id if rule.has_budget else None),
            (Campaign, rule.campaign_id),
        ):
            row = db.session.get(model, row_id) if row_id else None
            if row is None:
                continue
            points_left = (
                row.budget_points is None or row.spent_points + points <= row.budget_points
            )
            count_left = row.budget_count is None or row.spent_count + 1 <= row.budget_count
            if not (points_left and count_left):
                return f"the {model.__tablename__}'s budget is spent"
        return None


def preview(payload: dict) -> dict:
    """What the rule would do (``payload``: PreviewSchema or SavedPreviewSchema, loaded)."""
    if payload.get("rule_id"):
        row = service.get_rule(payload["rule_id"])
        rule = documents.compile_saved(row)
    else:
        rule = compile_rule(payload["rule"], "draft", 0, "draft")
    sample = payload["event"]
    notes = []
    if sample["type"] not in rule.event_types:
        return _result(
            "skipped",
            "not_listening",
            f"the rule listens to {', '.join(rule.event_types)}, not {sample['type']}",
        )
    event_type = lookup(sample["type"], 1)
    try:
        data = event_type.schema().load(sample["data"])
    except ValidationError as error:  # a what-if: evaluate what was given, and say so
        data = sample["data"]
        notes.append(f"the sample data does not match {sample['type']}: {error.messages}")
    try:
        object_key = event_type.object_key(data)
    except (KeyError, TypeError):
        object_key = None
    member_id = payload["member_id"]
    member = identity.get_member(member_id) or SimpleNamespace(
        id=member_id, tier=None, attributes={}, created_at=utcnow()
    )
    event = sample_event(
        sample["type"],
        data,
        member_id,
        sample.get("occurred_at") or utcnow(),
        sample.get("evidence", "claimed"),
        object_key_value=object_key,
    )
    config = current_app.config
    env = PreviewEnv(ReadOnlyCounterStore(), set(), config, count_all=True)
    facts = Facts(event, member, env)
    streaks = [spec for spec, _days in rule.streaks]
    env.counters.load(
        env.activity_keys(event, rule.counters, streaks)
        | rule.limit_keys(member_id, event, facts)
        | rule.streak_keys(member_id, facts)
    )
    env.count_activity(event, streaks, facts)  # as if this event had arrived
    decision = decide(rule, event, member, facts, env, removed=_removed(env, event))
    result = {
        "result": decision.result,
        "code": decision.code,
        "reason": decision.reason,
        "points": decision.points,
        "offers": decision.offers,
        "steps": notes + decision.steps,
        "conditions": rule.condition.trace(facts) if rule.condition is not None else None,
        "frees_at": decision.frees_at,
    }
    db.session.rollback()
    return result


def _result(result, code, reason) -> dict:
    return {
        "result": result,
        "code": code,
        "reason": reason,
        "points": 0,
        "offers": [],
        "steps": [],
        "conditions": None,
        "frees_at": None,
    }


def _removed(env: Env, event) -> bool:
    return event.type in REMOVED_BY and env.object_removed(event)
