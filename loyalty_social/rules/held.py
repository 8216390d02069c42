"""Held awards: a marketer approves one, or rejects it and gets back the limits and budget it
consumed."""

from __future__ import annotations

from ..extensions import db
from ..rewards import awards
from .budgets import release_budget
from .limits import CounterStore


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
    award = awards.reject(award_id, actor, reason)
    store = CounterStore()
    release_award(award, store)
    store.flush()
    db.session.commit()
    return award


def approve_held(award_id: str, actor: str | None):
    award = awards.approve(award_id, actor)
    db.session.commit()
    return award
