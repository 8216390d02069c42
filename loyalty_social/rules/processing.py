"""process_events: one batch of stored events through the rules, in one transaction.

Members are created and locked first, so limits and reversals for one member are decided one
event at a time even with many workers. Every effect is unique per (rule, event), so a batch
that runs twice (RQ retries, the sweeper, a replay) pays nothing twice.
"""

from __future__ import annotations

import logging

from ..extensions import db
from ..identity import service as identity
from ..intake import service as intake
from ..intake.catalogue import evidence_rank
from ..logs import bind
from ..metrics import AWARDS, EVENTS_PROCESSED
from ..rewards import service as rewards
from . import service as rules

log = logging.getLogger(__name__)
# Types whose arrival removes what the original event earned, and that original's type.
REMOVALS = {"review.removed": "review.published"}
REMOVED_BY = {original: removal for removal, original in REMOVALS.items()}


def process_events(event_ids: list[str]) -> None:
    with bind(event_ids=",".join(event_ids[:20]) + ("..." if len(event_ids) > 20 else "")):
        try:
            _process_batch(event_ids)
        except Exception:
            db.session.rollback()
            log.exception("batch failed; processing its events one by one")
            for event_id in event_ids:
                _process_alone(event_id)


def _process_batch(event_ids: list[str]) -> None:
    events = intake.claim_pending(event_ids)
    if not events:
        db.session.rollback()
        return
    members = identity.lock_members([e.member_id for e in events])
    for event in events:
        intake.mark_processed(event, evaluate(event, members[event.member_id]))
    db.session.commit()
    EVENTS_PROCESSED.labels("processed").inc(len(events))


def _process_alone(event_id: str) -> None:
    with bind(event_id=event_id):
        try:
            _process_batch([event_id])
        except Exception as error:
            db.session.rollback()
            log.exception("event failed")
            intake.mark_failed(event_id, f"{type(error).__name__}: {error}")
            db.session.commit()
            EVENTS_PROCESSED.labels("failed").inc()


def evaluate(event, member) -> dict:
    """Apply one event; return the outcome recorded on it (what paid, what did not and why)."""
    outcome: dict = {"awards": [], "skipped": [], "reversed": []}
    if event.type == "member.updated":
        identity.apply_update(member, event.data.get("tier"), event.data.get("attributes"))
    if event.type in REMOVALS and event.object_key:
        outcome["reversed"] = rewards.reverse_object(
            event.member_id, event.object_key, event.id, f"{event.type}: {event.object_key}"
        )
        AWARDS.labels("reversed").inc(len(outcome["reversed"]))
    removed = (
        event.type in REMOVED_BY
        and event.object_key
        and intake.object_removed(event.object_key, REMOVED_BY[event.type])
    )
    for rule in rules.active_rules(event.type):
        reason = None
        if removed:
            reason = f"the object was removed ({REMOVED_BY[event.type]} received)"
        elif evidence_rank(event.evidence) < evidence_rank(rule.min_evidence):
            reason = f"evidence '{event.evidence}' is below the rule's '{rule.min_evidence}'"
        if reason:
            outcome["skipped"].append({"rule_id": rule.id, "reason": reason})
            AWARDS.labels("skipped").inc()
            continue
        award_id = rewards.grant(
            rewards.Grant(
                rule.id, rule.version, event.id, event.member_id, event.object_key, rule.points
            )
        )
        if award_id is None:
            outcome["skipped"].append({"rule_id": rule.id, "reason": "already awarded"})
            AWARDS.labels("duplicate").inc()
        else:
            outcome["awards"].append(
                {"award_id": award_id, "rule_id": rule.id, "points": rule.points}
            )
            AWARDS.labels("granted").inc()
    return outcome
