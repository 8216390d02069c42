"""process_events: one batch of stored events through the rules, in one transaction.

Members are created and locked first (sorted), so limits, balances and reversals for one
member are decided one event at a time even with many workers. Shared rows (rule and campaign
budgets, offers) are locked next, in one global order, so workers never deadlock; budgets are
then spent in memory. Everything a batch reads is loaded up front in a bounded number of
queries (rules from the per-process cache, indexed by their first clause so most are never
evaluated; earlier awards of replayed events; removals; every counter its limits and
conditions may read; consent and linked networks when rules ask), evaluated in memory, and
written as it goes (outcomes, awards, ledger, balances, outbox: one statement each per chunk of
WRITE_CHUNK events; counters and budgets once), so the database work per batch does not grow
with the number of rules or a member's history. On PostgreSQL those writes stream (pipeline
mode): the database writes one chunk while Python evaluates the next.

Every effect is unique per (rule, event), so a batch that runs twice (RQ retries, the
sweeper, a replay) pays nothing twice.

Delivery hooks: the outbox rows for awards and reversals are written by
``rewards.service.credit`` / ``rewards.service.reverse`` (the one path every award and
reversal takes, here and from approvals or admin reversals), in this batch's transaction.
"""

from __future__ import annotations

import logging

from flask import current_app

from ..advocates import scoring
from ..advocates import signals as advocates
from ..analytics import rollups
from ..consent.service import current_grants
from ..extensions import db
from ..identity import service as identity
from ..ids import new_id
from ..intake import service as intake
from ..intake.committer import dispatch
from ..logs import bind
from ..metrics import AWARDS, EVENTS_PROCESSED
from ..rewards import service as rewards
from ..rewards.models import Award
from ..rewards.stock import OfferStock
from ..sql import is_transient, pipelined_writes, set_lock_timeout
from . import retries
from .active import active_rule_set, rule_set_stored, store_rule_set
from .budgets import Budgets
from .evaluation import evaluate_event
from .facts import Env, Facts
from .held import release_award, release_spent
from .index import Selection
from .limits import CounterStore

log = logging.getLogger(__name__)
# Types whose arrival removes what the original event earned, and that original's type.
REMOVALS = {"review.removed": "review.published"}
REMOVED_BY = {original: removal for removal, original in REMOVALS.items()}
TARGETED = "targeted_rewards"
# Events evaluated between two streamed writes: small enough that the database starts early,
# large enough that a batch stays a few statements per table.
WRITE_CHUNK = 50


def process_events(event_ids: list[str]) -> None:
    with bind(event_ids=",".join(event_ids[:20]) + ("..." if len(event_ids) > 20 else "")):
        try:
            _process_batch(event_ids)
        except Exception as error:
            db.session.rollback()
            if is_transient(error):
                raise retries.wait(event_ids, error) from error
            log.exception("batch failed; processing its events one by one")
            waiting = [event_id for event_id in event_ids if not _process_alone(event_id)]
            if waiting:
                raise retries.RetryLater(f"{len(waiting)} event(s) wait for a retry") from None


def _process_batch(event_ids: list[str]) -> None:
    rule_set = active_rule_set()
    set_lock_timeout(db.session.connection(), retries.lock_timeout())
    events = intake.without_erased(intake.claim_pending(event_ids))
    if not events:
        db.session.commit()  # the claim's locks go; dropped events of erased members too
        return
    members = identity.lock_members([e.member_id for e in events])
    store_rule_set(rule_set)
    recorded = advocates.observe(events)  # shares naming links, referrals: before the rules
    batch = Batch(events, members, rule_set)
    batch.run()
    db.session.commit()
    rule_set_stored(rule_set)
    EVENTS_PROCESSED.labels("processed").inc(len(events))
    recorded += batch.recorded  # and level changes: processed like any event
    if recorded:  # the sweeper sends them if this fails
        dispatch(recorded, current_app.config["PROCESS_BATCH_SIZE"])


def _process_alone(event_id: str) -> bool:
    """One event of a failed batch; False when it waits for a retry (see retries)."""
    with bind(event_id=event_id):
        try:
            _process_batch([event_id])
        except Exception as error:
            db.session.rollback()
            if is_transient(error):
                retries.wait([event_id], error)
                return False
            retries.fail(event_id, error)
    return True


def consent_ref(record, member_id: str) -> str:
    """What an award records of the consent that allowed it: the record's id where it has
    one, else its key and the time of the decision (the consent history holds the event)."""
    ref = getattr(record, "id", None)
    if ref:
        return str(ref)
    updated = getattr(record, "updated_at", None)
    return f"{TARGETED}:{member_id}@{updated.isoformat() if updated else 'unknown'}"


class ProcessingEnv(Env):
    """The batch's view of the world: preloaded, locked, written back at the end."""

    def __init__(
        self,
        store,
        existing: set[tuple[str, str]],
        config,
        count_all: bool,
        removed: set[str] | None = None,
        budgets=None,
        offers: OfferStock | None = None,
    ):
        super().__init__(
            store,
            program_tz=config["PROGRAM_TIMEZONE"],
            ceiling=config["MEMBER_DAILY_POINTS_CEILING"],
            velocity=config["VELOCITY_MAX_EVENTS_PER_DAY"],
            count_all=count_all,
            max_age_days=config["MAX_EVENT_AGE_DAYS"],
        )
        self.awarded: dict[str, set[str]] = {}
        for rule_id, event_id in existing:
            self.awarded.setdefault(event_id, set()).add(rule_id)
        self.removed = removed
        self.budgets = budgets
        self.offers = offers

    def awarded_rules(self, event_id):
        return self.awarded.get(event_id, frozenset())

    def object_removed(self, event):
        """Has a removal of this event's object arrived? ``removed``: preloaded for a batch;
        None (previews, backtests): asked of the database."""
        removal = REMOVED_BY.get(event.type)
        if removal is None or not event.object_key:
            return False
        if self.removed is not None:
            return event.object_key in self.removed
        return bool(intake.removed_objects({event.object_key}, {removal}))

    def fetch_consent(self, member_id):
        return self._consent_refs([member_id])[member_id]

    fetch_levels = staticmethod(scoring.levels_of)

    def fetch_linked(self, member_id):
        return identity.linked_providers([member_id]).get(member_id, [])

    def prefetch(self, member_ids: list[str], rules) -> None:
        """What the rules may ask of each member (consent to targeted rewards, linked
        networks), read for the whole batch in one query each, not one per member, and
        before its writes stream (nothing may be read then)."""
        if any(rule.targeted for rule in rules):
            self._consent.update(self._consent_refs(member_ids))
        self.prefetch_levels(member_ids, rules)
        if any(rule.needs_linked for rule in rules):
            linked = identity.linked_providers(member_ids)
            self._linked.update({m: linked.get(m, []) for m in member_ids})

    @staticmethod
    def _consent_refs(member_ids: list[str]) -> dict[str, str | None]:
        granted = current_grants(member_ids, TARGETED)
        return {m: consent_ref(granted[m], m) if m in granted else None for m in member_ids}

    def take_budget(self, rule, points):
        return self.budgets.take(rule, points)

    def offer_refusals(self, member_id, offer_ids):
        """The batch's stock decides; previews and backtests (no stock) promise the offers."""
        return self.offers.refusals(member_id, offer_ids) if self.offers is not None else {}

    def take_offers(self, member_id, offer_ids):
        if self.offers is not None:
            self.offers.take(member_id, offer_ids)


def network_of(event) -> str:
    """The social network an event names, for analytics ('' when it names none)."""
    network = (event.data or {}).get("network") if isinstance(event.data, dict) else None
    return network if isinstance(network, str) else ""


def existing_awards(events) -> set[tuple[str, str]]:
    """(rule, event) pairs already paid for these events. Awards are written only in the
    transaction that marks their event processed, so an event never processed before
    (no attempt, no outcome) has none: only replays and retries are looked up."""
    event_ids = [e.id for e in events if e.attempts or e.outcome is not None]
    if not event_ids:
        return set()
    rows = db.session.execute(
        db.select(Award.rule_id, Award.event_id).where(Award.event_id.in_(event_ids))
    )
    return {(rule_id, event_id) for rule_id, event_id in rows}


class Batch:
    def __init__(self, events, members, rule_set):
        self.events = events
        self.members = members
        self.rule_set = rule_set
        self.grants: list[rewards.Grant] = []
        self.recorded: list[str] = []  # internal events recorded, dispatched after commit

    def run(self) -> None:
        first = [e for e in self.events if e.outcome is None]  # counted once, ever
        by_type = self.rule_set.by_type
        listening = {e.id: self.rule_set.rules(e.type) for e in self.events}
        involved = list({r.id: r for rs in listening.values() for r in rs}.values())
        budgets = Budgets(involved)
        offers = OfferStock((o for r in involved for o in r.plan.offers), list(self.members))
        store = CounterStore()
        count_all = any(c[0] == "*" for index in by_type.values() for c in index.counters)
        removable = {e.object_key for e in self.events if e.type in REMOVED_BY and e.object_key}
        self.env = ProcessingEnv(
            store,
            existing_awards(self.events),
            current_app.config,
            count_all,
            removed=intake.removed_objects(removable, set(REMOVALS)),
            budgets=budgets,
            offers=offers,
        )
        self.env.prefetch(list(self.members), involved)
        # Conditions that read only the event and the member are checked here, once: the
        # rule index rules out those whose first clause cannot hold, the others are prechecked,
        # and the batch then loads counters only for rules that may pay. Members updated in
        # this batch, and counter conditions, are evaluated in order below instead.
        updated = {e.member_id for e in self.events if e.type == "member.updated"}
        keys = set()
        self.prechecks: dict[str, dict] = {}
        self.facts: dict[str, Facts] = {}
        self.selections: dict[str, Selection] = {}
        for event in self.events:
            member = self.members[event.member_id]
            index = by_type.get(event.type)
            keys |= self.env.activity_keys(
                event, index.counters if index else (), self.rule_set.streaks(event.type)
            )
            facts = Facts(event, member, self.env)
            precheck = self.prechecks[event.id] = {}
            candidates = listening[event.id]
            if member.id not in updated and index is not None:
                selection = self.selections[event.id] = index.select(facts)
                candidates = selection.candidates
            for rule in candidates:
                if (
                    rule.condition is not None
                    and not rule.reads_counters
                    and member.id not in updated
                ):
                    failed = precheck[rule.id] = rule.condition.failure(facts)
                    if failed is not None:
                        continue
                keys |= rule.limit_keys(member.id, event, facts)
                if rule.streaks:
                    keys |= rule.streak_keys(member.id, facts)
            if member.id not in updated:
                self.facts[event.id] = facts
        store.load(keys)
        self.evaluate_and_write(listening, involved, store)
        budgets.flush()
        # Advocate signals and score, in this transaction (the members are locked).
        self.recorded = scoring.count_events(first)

    def evaluate_and_write(self, listening: dict, involved: list, store: CounterStore) -> None:
        """Evaluate the events in order and write what they decided: per table one statement
        per chunk of events, streamed on PostgreSQL (pipeline mode: the database writes one
        chunk while Python evaluates the next) when nothing left to do reads the database."""
        # No event of this batch was processed before, so none has an award yet.
        new_events = all(not e.attempts and e.outcome is None for e in self.events)
        streamed = (
            new_events
            and not any(e.type in REMOVALS for e in self.events)  # reversals read awards
            and rewards.pays_without_reads(offers=any(r.plan.offers for r in involved))
        )
        balances = None
        if streamed:
            balances = rewards.member_balances(set(self.members))
        chunk = WRITE_CHUNK if streamed else len(self.events)
        with pipelined_writes(db.session.connection(), enabled=streamed):
            for start in range(0, len(self.events), chunk):
                events = self.events[start : start + chunk]
                outcomes = {e.id: self.evaluate(e, listening[e.id]) for e in events}
                intake.mark_processed(outcomes)
                rewards.pay(self.grants, new_events=new_events, balances=balances)
                self.grants = []
            store.flush()

    def flush_grants(self) -> None:
        rewards.pay(self.grants)
        self.grants = []

    def evaluate(self, event, listening) -> dict:
        """Apply one event; return the outcome recorded on it (what paid, what did not, why)."""
        member = self.members[event.member_id]
        outcome: dict = {"awards": [], "held": [], "skipped": [], "reversed": []}
        if event.type == "member.updated":
            identity.apply_update(member, event.data.get("tier"), event.data.get("attributes"))
        if event.type in REMOVALS and event.object_key:
            self.flush_grants()  # awards earlier in this batch must exist to be reversed
            reason = f"{event.type}: {event.object_key}"
            outcome["reversed"] = rewards.reverse_object(
                event.member_id, event.object_key, event.id, reason
            )
            for award_id in outcome["reversed"]:  # clawed back: its budget is spendable again
                release_spent(db.session.get(Award, award_id), self.env.budgets)
            for award in rewards.reject_held_on_object(event.member_id, event.object_key, reason):
                release_award(award, self.env.counters, self.env.budgets)
            AWARDS.labels("reversed").inc(len(outcome["reversed"]))
        if event.outcome is None:  # first processing: count the activity once
            self.env.count_activity(
                event, self.rule_set.streaks(event.type), self.facts.get(event.id), member
            )
            rollups.add(db.session, "events", event.received_at, event.type, event.source_name)
        explanations = []
        selection = self.selections.get(event.id)
        decisions, not_matched = evaluate_event(
            event,
            member,
            listening,
            self.env,
            self.prechecks.get(event.id),
            self.facts.get(event.id),
            selection,
        )
        for decision in decisions:
            explanations.append(decision.explanation())
            rule = decision.rule
            if decision.result in ("paid", "held"):
                grant = rewards.Grant(
                    rule.id,
                    rule.version,
                    event.id,
                    event.member_id,
                    event.object_key,
                    decision.points,
                    award_id=new_id("awd"),
                    status="granted" if decision.result == "paid" else "held",
                    consent_ref=decision.consent_ref,
                    campaign_id=rule.campaign_id,
                    offers=tuple(decision.offers),
                    details={
                        "steps": decision.steps,
                        "limit_keys": decision.limit_keys,
                        "rule_budget": rule.has_budget,
                        **(
                            {"offers_refused": decision.offers_refused}
                            if decision.offers_refused
                            else {}
                        ),
                    },
                    reason=decision.reason if decision.result == "held" else None,
                    network=network_of(event),
                )
                self.grants.append(grant)
                entry = {
                    "award_id": grant.award_id,
                    "rule_id": rule.id,
                    "rule_version": rule.version,
                    "points": decision.points,
                }
                if decision.result == "paid":
                    outcome["awards"].append(entry)
                    AWARDS.labels("granted").inc()
                else:
                    outcome["held"].append(entry)
                    AWARDS.labels("held").inc()
            elif decision.code != "condition":  # "did not apply" lives in explanations only
                outcome["skipped"].append({"rule_id": rule.id, "reason": decision.reason})
                AWARDS.labels("duplicate" if decision.result == "duplicate" else "skipped").inc()
        outcome["explanations"] = explanations
        # [rule_id, rule_version, clause, value seen]: "did not apply" (explanations.py reads)
        outcome["not_matched"] = not_matched
        if selection is not None and selection.gated_out:
            # Every rule of this rule set gated on these fields and not recorded above did not
            # apply: its first clause failed on the value seen (explanations.py expands it).
            outcome["gated"] = {"rule_set": self.rule_set.id, "seen": selection.seen}
        return outcome
