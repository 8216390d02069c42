"""Held awards: a marketer approves one, or rejects it and gets back the limits and budget it
consumed. A targeted award pays only with the member's consent to targeted rewards at the
moment it is paid: approval checks it again, and a withdrawal rejects the member's held ones."""

from __future__ import annotations

from .. import audit
from ..consent.service import has_consent
from ..errors import Problem
from ..extensions import db
from ..rewards import awards
from ..rewards.models import Award
from .budgets import Budgets, release_budget
from .limits import CounterStore

TARGETED = "targeted_rewards"
WITHDRAWN = "The member withdrew consent to targeted rewards; this targeted award pays nothing."


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
    audit.record(
        "award.rejected",
        target=("award", award_id),
        before={"status": "held"},
        after={"status": award.status, "reason": reason},
    )
    db.session.commit()
    return award


def approve_held(award_id: str, actor: str | None):
    """Pay a held award; a targeted one only while the member consents (checked under the
    member's lock, after the payment is written and before it commits)."""
    award = awards.approve(award_id, actor)
    if award.consent_ref and has_consent(award.member_id, TARGETED) is None:
        db.session.rollback()
        raise Problem(
            "consent-required",
            f"Award {award_id!r} is a targeted reward and the member does not consent to "
            "targeted rewards now: it was not paid and stays held (reject it, or approve it "
            "once the member consents again).",
        )
    audit.record(
        "award.approved",
        target=("award", award_id),
        before={"status": "held"},
        after={"status": award.status, "points": award.points},
    )
    db.session.commit()
    return award


def reject_unconsented(member_ids: list[str]) -> list[str]:
    """Withdrawal reaches the approval queue: these members' held targeted awards are
    rejected, their limits and budget given back. Runs in the withdrawal's transaction."""
    held = db.session.scalars(
        db.select(Award.id).where(
            Award.member_id.in_(sorted(set(member_ids))),
            Award.status == "held",
            Award.consent_ref.is_not(None),
        )
    ).all()
    if not held:
        return []
    store = CounterStore()
    for award_id in held:
        award = awards.reject(award_id, "consent", WITHDRAWN)
        release_award(award, store)
    store.flush()
    return list(held)
