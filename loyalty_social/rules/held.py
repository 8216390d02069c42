"""Held awards: a marketer approves one, or rejects it and gets back the limits and budget it
consumed."""

from __future__ import annotations

from ..extensions import db
from ..rewards import awards
from .budgets import Budgets, release_budget
from .limits import CounterStore


def release_award(award, store, budgets: Budgets | None = None) -> None:
    """Give back the limits and budget a held award consumed (it was rejected).

    The caller holds the member's row lock (counters are the member's) and flushes ``store``;
    inside a batch, ``budgets`` takes the release (it writes the batch's net change once).
    """
    details = award.details or {}
    for member_id, bucket, scope in details.get("limit_keys") or []:
        store.add(member_id, bucket, scope, -1, -award.points, None)
    release_spent(award, budgets)


def release_spent(award, budgets: Budgets | None = None) -> None:
    """Give back the budget an award consumed (rejected, or clawed back)."""
    had_budget = bool((award.details or {}).get("rule_budget"))
    if budgets is not None:
        budgets.release(award.rule_id, award.campaign_id, award.points, had_budget)
    else:
        release_budget(award.rule_id, award.campaign_id, award.points, had_budget)


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
