"""Deciding, for one event, what each listening rule pays and why (or why not).

Pure logic over an environment (``Env``) that supplies counters, consent, linked networks,
budgets and "already paid": processing gives it the batch's locked, preloaded state; preview
gives it read-only state; backtests give it a simulation. So the three can never disagree
about what a rule means.

Order of checks per rule (the first that fails is the explanation): already paid, stopped by
an exclusive rule, object removed, event too old, schedule, evidence, conditions, consent
(targeted rules), reward > 0, member limits (period, once per object, cooldown), the member's
daily ceiling, offers in stock, budgets (rule, campaign). Rules run by priority, highest
first; an exclusive rule that pays (or holds) stops the rules below it for that event.
"""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

from ..intake.catalogue import evidence_rank, review_reason
from ..timeutil import isoformat
from .compiled import CompiledRule
from .facts import Env, Facts
from .limit_checks import check_limits, consume_limits
from .vocabulary import MISSING

# --- Decisions ---------------------------------------------------------------------------


class Decision:
    """One rule's verdict on one event, in data (for the record) and words (for people).

    A plain class with slots: a batch makes one per listening rule per event (hundreds of
    thousands a minute), so construction cost matters."""

    __slots__ = (
        "code",
        "consent_ref",
        "failure",
        "frees_at",
        "limit_keys",
        "offers",
        "offers_refused",
        "points",
        "reason",
        "result",
        "rule",
        "steps",
    )

    def __init__(
        self,
        rule: CompiledRule,
        result: str,  # paid | held | skipped | duplicate
        code: str,
        reason: str,
        points: int = 0,
        offers: list | None = None,
        steps: list | None = None,
        failure: dict | None = None,
        frees_at: datetime | None = None,
        consent_ref: str | None = None,
        limit_keys: list | None = None,
        offers_refused: dict | None = None,
    ):
        self.rule = rule
        self.result = result
        self.code = code
        self.reason = reason
        self.points = points
        self.offers = offers or []
        self.steps = steps or []
        self.failure = failure
        self.frees_at = frees_at
        self.consent_ref = consent_ref
        self.limit_keys = limit_keys or []
        self.offers_refused = offers_refused  # offer id -> why the member did not get it

    @property
    def stops_lower(self) -> bool:
        return self.rule.exclusive and self.result in ("paid", "held", "duplicate")

    def explanation(self) -> dict:
        record = {
            "rule_id": self.rule.id,
            "rule_version": self.rule.version,
            "result": self.result,
            "code": self.code,
            "reason": self.reason,
        }
        if self.points:
            record["points"] = self.points
        if self.offers:
            record["offers"] = self.offers
        if self.offers_refused:
            record["offers_refused"] = self.offers_refused
        if self.failure:
            record["failure"] = self.failure
        if self.frees_at:
            record["frees_at"] = isoformat(self.frees_at)
        return record


def _skip(rule, code, reason, **extra) -> Decision:
    return Decision(rule, "skipped", code, reason, **extra)


def evaluate_event(
    event,
    member,
    rules: list[CompiledRule],
    env: Env,
    precheck: dict | None = None,
    facts: Facts | None = None,
    selection=None,
) -> tuple[list[Decision], list[list]]:
    """Decide every listening rule for one event, consuming limits as awards are decided.

    Returns the decisions, and the rules whose conditions did not match as compact records
    ``[rule_id, rule_version, clause, value seen]`` (stored as data and put into words only
    when someone asks). ``selection`` (``index.Selection``): rules gated out by the rule index
    get no record at all when nothing earlier in the order of checks applies to them (the
    outcome records the values seen once for all of them), and only its candidates are visited
    unless the event is a replay or its object was removed.
    """
    facts = facts or Facts(event, member, env)
    decisions: list[Decision] = []
    not_matched: list[list] = []
    stopped_by: CompiledRule | None = None
    awarded = env.awarded_rules(event.id)
    removed = env.object_removed(event)
    too_old = env.too_old(event)
    gated_out = selection.gated_out if selection is not None else frozenset()
    visit_all = selection is None or bool(awarded) or removed or bool(too_old)
    rank = evidence_rank(event.evidence)
    at = event.occurred_at
    for rule in rules if visit_all else selection.candidates:
        if rule.id in awarded:
            decision = Decision(rule, "duplicate", "duplicate", "already awarded")
        elif stopped_by is not None:
            decision = _stopped(rule, stopped_by)
        else:
            if (
                not removed
                and not too_old
                and rank >= rule.min_rank
                and (rule.starts_at is None or at >= rule.starts_at)
                and (rule.ends_at is None or at < rule.ends_at)
            ):
                # The conditions are the explanation: recorded as data, not as a decision.
                if rule.id in gated_out:
                    continue
                failed = precheck.get(rule.id) if precheck else None
                if failed is not None:
                    actual = None if failed.actual is MISSING else failed.actual
                    not_matched.append([rule.id, rule.version, failed.path, actual])
                    continue
            decision = decide(rule, event, member, facts, env, removed, precheck, too_old)
        decisions.append(decision)
        if decision.stops_lower and stopped_by is None:
            stopped_by = rule
    if stopped_by is not None and not visit_all:
        # Gated-out rules below an exclusive rule that paid were not visited: it stopped them.
        visited = {d.rule.id for d in decisions}
        below = rules[rules.index(stopped_by) + 1 :]
        decisions += [_stopped(r, stopped_by) for r in below if r.id not in visited]
    return decisions, not_matched


def _stopped(rule: CompiledRule, by: CompiledRule) -> Decision:
    return _skip(
        rule,
        "exclusive",
        f"the exclusive rule {by.name!r} (priority {by.priority}) already rewarded this activity",
    )


NOT_CHECKED = object()


def decide(
    rule,
    event,
    member,
    facts,
    env: Env,
    removed: bool = False,
    precheck: dict | None = None,
    too_old: str | None = None,
) -> Decision:
    """One rule's verdict. ``precheck``: rule id -> condition result computed earlier in the
    batch (the batch loads counters only for rules whose conditions held); ``too_old``: why
    the event is too old to earn anything (``Env.too_old``)."""
    if removed:
        return _skip(rule, "removed", "the object was removed before it could be rewarded")
    if too_old:
        return _skip(rule, "too_old", too_old)
    at = event.occurred_at
    if rule.starts_at and at < rule.starts_at:
        return _skip(
            rule,
            "schedule",
            f"the rule starts at {isoformat(rule.starts_at)}; the activity was earlier",
        )
    if rule.ends_at and at >= rule.ends_at:
        return _skip(
            rule, "schedule", f"the rule ended at {isoformat(rule.ends_at)}; the activity was later"
        )
    if evidence_rank(event.evidence) < evidence_rank(rule.min_evidence):
        return _skip(
            rule,
            "evidence",
            f"evidence '{event.evidence}' is below the rule's '{rule.min_evidence}'",
        )
    if rule.condition is not None:
        failed = precheck.get(rule.id, NOT_CHECKED) if precheck else NOT_CHECKED
        if failed is NOT_CHECKED:
            failed = rule.condition.failure(facts)
        if failed is not None:
            # Data only: the words are made when someone reads the explanation.
            return _skip(
                rule, "condition", f"condition {failed.path} failed", failure=failed.as_dict()
            )
    consent_ref = None
    if rule.targeted:
        consent_ref = env.consent(member.id)
        if consent_ref is None:
            return _skip(
                rule,
                "consent",
                "this is a targeted reward and the member has not consented to targeted rewards",
            )
    payout = rule.plan.compute(facts, event.evidence)
    if payout.points <= 0 and not payout.offers:
        return _skip(rule, "zero", "the reward works out to 0 points", steps=payout.steps)
    env.counters.load_limits(rule, member.id, event, facts)  # no-op when preloaded
    hit = check_limits(rule, event, member.id, facts, env, payout.points)
    if hit is not None:
        return _skip(
            rule,
            hit.code,
            f"{hit.limit} reached: {hit.words}",
            frees_at=hit.frees_at,
            steps=payout.steps,
        )
    # Offers the member cannot get (sold out, ...) are not promised: said, and not granted.
    refused = env.offer_refusals(member.id, payout.offers) if payout.offers else None
    offers = [o for o in payout.offers if o not in refused] if refused else payout.offers
    if refused and payout.points <= 0 and not offers:
        return _skip(rule, "offer", "; ".join(refused.values()), steps=payout.steps)
    exhausted = env.take_budget(rule, payout.points)
    if exhausted:
        return _skip(rule, "budget", exhausted, steps=payout.steps)
    keys = consume_limits(rule, event, member.id, facts, env, payout.points)
    held = _hold_reason(rule, payout.points, member, event, env)
    result = "held" if held else "paid"
    if offers and not held:  # a held award's offers are granted if still there on approval
        env.take_offers(member.id, offers)
    reason = held or f"paid {payout.points} points" + (
        f" and {len(offers)} offer(s)" if offers else ""
    )
    if refused:
        reason += "; " + "; ".join(refused.values())
    return Decision(
        rule,
        result,
        result,
        reason,
        points=payout.points,
        offers=offers,
        steps=payout.steps,
        consent_ref=consent_ref,
        limit_keys=keys,
        offers_refused=refused,
    )


def _hold_reason(rule, points, member, event, env) -> str | None:
    review = review_reason(event)  # e.g. a referral from a suspicious burst of sign-ups
    if review:
        return f"held for review: {review}"
    if rule.hold_above is not None and points > rule.hold_above:
        return (
            f"held for review: {points} points is above the rule's threshold of {rule.hold_above}"
        )
    if rule.hold_flagged and (env.flagged(member) or env.velocity_exceeded(event)):
        return "held for review: the member is flagged by the velocity check"
    return None


def sample_event(
    event_type: str,
    data: dict,
    member_id: str,
    occurred_at: datetime,
    evidence: str = "claimed",
    source: str = "preview",
    object_key_value: str | None = None,
) -> SimpleNamespace:
    """An unsaved event for previews."""
    return SimpleNamespace(
        id="preview",
        type=event_type,
        member_id=member_id,
        occurred_at=occurred_at,
        evidence=evidence,
        source_name=source,
        object_key=object_key_value,
        data=data,
        outcome=None,
    )
