"""Why an event paid or did not: stored per event as data, rendered in plain words on read.

Processing stores, in the update that marks the event processed, a structured record per
rule it evaluated (``outcome["explanations"]``: code, reason, failed clause, limit and when it
frees up; ``outcome["not_matched"]``: clause and value seen), and for the rules the rule index
ruled out only the values seen and the rule set's id (``outcome["gated"]``), so explaining
costs little on the hot path.
Members get sentences about their activity; marketers get the same records per rule.
"""

from __future__ import annotations

from datetime import datetime

from ..errors import Problem
from ..extensions import db
from ..intake.models import ActivityEvent
from . import service
from .compiled import compile_rule
from .conditions import find
from .models import RuleSetSnapshot, RuleVersion
from .vocabulary import MISSING

MEMBER_WORDS = {
    "paid": "You earned {points} points from “{name}”.",
    "held": "Your {points} points from “{name}” are being checked; you get them once approved.",
    "duplicate": "You already got the reward of “{name}” for this activity.",
    "exclusive": "“{name}” does not add to the other reward you got for this activity.",
    "removed": "This content was removed, so “{name}” does not reward it.",
    "too_old": "This activity reached us too long after it happened for “{name}” to reward "
    "it: {detail}.",
    "schedule": "“{name}” was not running when this happened.",
    "evidence": "“{name}” needs stronger proof of this activity than we received.",
    "condition": "“{name}” did not apply: {detail}.",
    "consent": "“{name}” is a personalised reward: it needs your consent to targeted rewards, "
    "which you can give in your privacy settings.",
    "zero": "“{name}”: this activity did not add up to any points.",
    "limit": "You reached the limit of “{name}”{frees}.",
    "ceiling": "You reached the most points you can earn in a day{frees}.",
    "budget": "“{name}” has run out of rewards.",
}


def _frees(at: str | None) -> str:
    if not at:
        return ""
    try:
        when = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        return ""
    return f"; you can earn it again from {when.strftime('%Y-%m-%d %H:%M')} UTC"


class _Versions:
    """Rule versions compiled on demand: a failed clause is stored as a pointer and the value
    seen; its words come from the version of the rule that evaluated it."""

    def __init__(self):
        self.compiled: dict = {}

    def clause(self, rule_id: str, version, pointer: str):
        key = (rule_id, version)
        if key not in self.compiled:
            row = db.session.get(RuleVersion, key) if version else None
            self.compiled[key] = (
                compile_rule(service.validate_document(row.snapshot), rule_id, version, row.status)
                if row is not None
                else None
            )
        rule = self.compiled[key]
        return find(rule.condition, pointer) if rule is not None else None

    def words(self, record: dict) -> tuple[str, str] | None:
        failure = record.get("failure") or {}
        if record.get("code") != "condition" or "clause" not in failure:
            return None
        node = self.clause(record["rule_id"], record.get("rule_version"), failure["clause"])
        if node is None or not hasattr(node, "words"):
            return None
        actual = failure.get("actual")
        return node.describe(), node.words(MISSING if actual is None else actual)


def _member_message(record: dict, name: str, versions: _Versions) -> str:
    code = record.get("code", "")
    template = MEMBER_WORDS.get(code, "“{name}”: {detail}.")
    detail = record.get("reason", "")
    failure = record.get("failure") or {}
    rendered = versions.words(record)
    if rendered:
        detail = rendered[1]
    elif code == "condition" and failure.get("words"):
        detail = failure["words"]
    elif code == "condition":
        detail = "its conditions did not match this activity"
    message = template.format(
        name=name,
        points=record.get("points", 0),
        detail=detail,
        frees=_frees(record.get("frees_at")),
    )
    refused = record.get("offers_refused")
    if refused and code != "offer":  # paid or held, without the offers it could not give
        message += " But " + "; ".join(refused.values()) + "."
    return message


def _not_matched(rule_id, version, clause, actual) -> dict:
    return {
        "rule_id": rule_id,
        "rule_version": version,
        "result": "skipped",
        "code": "condition",
        "reason": f"condition {clause} failed",
        "failure": {"clause": clause, "actual": actual},
    }


class _RuleSets:
    """Rule set snapshots read on demand, once each (a page of events shares a few)."""

    def __init__(self):
        self.gates: dict[str, dict] = {}

    def get(self, rule_set_id: str) -> dict:
        if rule_set_id not in self.gates:
            row = db.session.get(RuleSetSnapshot, rule_set_id)
            self.gates[rule_set_id] = row.gates if row is not None else {}
        return self.gates[rule_set_id]


def _gated_out(event: ActivityEvent, recorded: set[str], rule_sets: _RuleSets) -> list[dict]:
    """The rules the index ruled out for this event: those of its rule set gated on a field
    whose value was recorded, and without a record of their own. Their first clause failed."""
    gated = (event.outcome or {}).get("gated")
    if not gated:
        return []
    seen = gated["seen"]
    return [
        _not_matched(rule_id, version, pointer, seen[field])
        for rule_id, version, field, pointer in rule_sets.get(gated["rule_set"]).get(event.type, [])
        if field in seen and rule_id not in recorded
    ]


def _records(event: ActivityEvent, rule_sets: _RuleSets) -> list[dict]:
    outcome = event.outcome or {}
    if "explanations" in outcome:
        records = outcome["explanations"] + [
            _not_matched(*entry) for entry in outcome.get("not_matched", [])
        ]
        return records + _gated_out(event, {r["rule_id"] for r in records}, rule_sets)
    # Events processed before explanations existed: what the outcome says.
    records = [
        {
            "rule_id": a["rule_id"],
            "result": "paid",
            "code": "paid",
            "points": a["points"],
            "reason": f"paid {a['points']} points",
        }
        for a in outcome.get("awards", [])
    ]
    records += [
        {"rule_id": s["rule_id"], "result": "skipped", "code": "other", "reason": s["reason"]}
        for s in outcome.get("skipped", [])
    ]
    return records


def event_records(event: ActivityEvent) -> list[dict]:
    """Every listening rule's stored record for one processed event, as data."""
    return _records(event, _RuleSets())


def member_explanation(member_id: str, event_id: str) -> dict:
    event = db.session.get(ActivityEvent, event_id)
    if event is None or event.member_id != member_id:
        raise Problem("not-found", f"No event {event_id!r} for member {member_id!r}.")
    records = event_records(event)
    names = service.rule_names(r["rule_id"] for r in records)
    versions = _Versions()
    items = []
    for record in records:
        name = names.get(record["rule_id"], "a reward rule")
        item = {
            "rule_id": record["rule_id"],
            "rule_name": name,
            "rule_version": record.get("rule_version"),
            "result": record["result"],
            "code": record["code"],
            "message": _member_message(record, name, versions),
            "frees_at": record.get("frees_at"),
        }
        if record.get("points"):
            item["points"] = record["points"]
        items.append(item)
    return {
        "member_id": member_id,
        "event_id": event.id,
        "event_type": event.type,
        "status": event.status,
        "summary": _summary(event, records),
        "rules": items,
    }


def _summary(event: ActivityEvent, records: list[dict]) -> str:
    if event.status == "pending" and event.error:
        return (
            "A temporary problem on our side delayed checking this activity for rewards; "
            "we will try again shortly, nothing is lost."
        )
    if event.status == "pending":
        return "We have received this activity and will check it for rewards shortly."
    if event.status == "failed":
        return (
            "We could not check this activity for rewards: an error stopped it that will not "
            "pass by itself. Our team has been told and will check it again once it is fixed."
        )
    paid = sum(r.get("points", 0) for r in records if r["result"] == "paid")
    held = sum(r.get("points", 0) for r in records if r["result"] == "held")
    if paid and held:
        return f"You earned {paid} points for this activity; {held} more are being checked."
    if paid:
        return f"You earned {paid} points for this activity."
    if held:
        return f"{held} points for this activity are being checked."
    if not records:
        return "No reward applies to this kind of activity at the moment."
    return "This activity did not earn points; each reward's reason is below."


def rule_explanations(rule_id: str, since=None, until=None, result=None, limit=50) -> list[dict]:
    """The recorded decisions of one rule, newest first (scans the rule's event types in the
    window, so keep the window short on busy systems)."""
    rule = service.get_rule(rule_id)
    types = list(rule.event_types or [rule.event_type])
    query = (
        db.select(ActivityEvent)
        .where(ActivityEvent.type.in_(types), ActivityEvent.status == "processed")
        .order_by(ActivityEvent.received_at.desc(), ActivityEvent.id.desc())
    )
    if since:
        query = query.where(ActivityEvent.received_at >= since)
    if until:
        query = query.where(ActivityEvent.received_at < until)
    found = []
    versions = _Versions()
    rule_sets = _RuleSets()
    for event in db.session.scalars(query.execution_options(yield_per=500)):
        for record in _records(event, rule_sets):
            if record["rule_id"] != rule_id or (result and record["result"] != result):
                continue
            rendered = versions.words(record)
            reason = record.get("reason", "")
            failure = record.get("failure")
            if rendered:
                reason = f"{reason}: {rendered[1]}"
                failure = {**failure, "expected": rendered[0]}
            found.append(
                {
                    "event_id": event.id,
                    "member_id": event.member_id,
                    "occurred_at": event.occurred_at,
                    "result": record["result"],
                    "code": record["code"],
                    "reason": reason,
                    "points": record.get("points", 0),
                    "failure": failure,
                    "frees_at": record.get("frees_at"),
                }
            )
        if len(found) >= limit:
            break
    return found[:limit]
