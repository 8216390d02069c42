"""Points: grant once per (rule, event), hold for review, reverse, read balances and ledgers.

Every award that reaches a balance goes through ``credit`` and every reversal through
``reverse``: the ledger entry, the balance row, the offers and the outbox row (delivery to the
loyalty backend) are written there, in the caller's transaction, so no path can pay without
being delivered or reverse without being clawed back downstream.

Balances are maintained rows (O(1) reads), written only by transactions that hold the
member's row lock (processing locks its batch's members; approvals and admin reversals lock
the one member), so read-modify-write of a balance is safe. NEGATIVE_BALANCE_POLICY decides
what a reversal larger than the balance does: ``allow`` (go negative, visibly) or ``floor``
(stop at zero and record the rest as debt, repaid from the next awards).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace

from flask import current_app

from ..analytics import rollups
from ..delivery import outbox, subscriptions
from ..delivery.models import TARGETED
from ..extensions import db
from ..ids import OrderedIds, new_id
from ..intake.models import ActivityEvent
from ..sql import (
    insert_ignoring_duplicates,
    insert_rows,
    insert_statement,
    newest_first_page,
    run_insert,
)
from ..timeutil import utcnow
from . import offers as offer_service
from .models import Award, Balance, LedgerEntry


@dataclass(frozen=True)
class Grant:
    """What a rule wants to pay for an event."""

    rule_id: str
    rule_version: int
    event_id: str
    member_id: str
    object_key: str | None
    points: int
    award_id: str | None = None
    status: str = "granted"  # granted | held
    consent_ref: str | None = None
    campaign_id: str | None = None
    offers: tuple[str, ...] = ()
    details: dict = field(default_factory=dict)
    reason: str | None = None
    network: str = ""  # the event's network ('' for none): analytics counts points by it


def grant(item: Grant) -> str | None:
    """Write one award (see ``pay``); None if this rule already paid for this event."""
    return pay([item])[0]


def pay(items: list[Grant], *, new_events: bool = False, balances=None) -> list[str | None]:
    """Insert the awards (unique per rule and event: a repeat inserts nothing), then credit
    the granted ones. Returns each item's award id, or None where it already existed.

    ``new_events``: the caller knows no award exists yet for these events (their processing
    never committed: awards are written only by the commit that marks an event processed),
    so the awards are inserted as they are; a duplicate would still be refused by the unique
    key, failing the transaction. ``balances``: ``member_balances`` read by the caller (inside
    ``sql.pipelined_writes`` nothing may be read).
    """
    if not items:
        return []
    now = utcnow()
    items = [item if item.award_id else replace(item, award_id=new_id("awd")) for item in items]
    rows = [
        {
            "id": item.award_id,
            "rule_id": item.rule_id,
            "rule_version": item.rule_version,
            "event_id": item.event_id,
            "member_id": item.member_id,
            "object_key": item.object_key,
            "points": item.points,
            "status": item.status,
            "created_at": now,
            "reversed_at": None,
            "consent_ref": item.consent_ref,
            "campaign_id": item.campaign_id,
            "details": {**item.details, "offers": list(item.offers)},
            "reason": item.reason,
        }
        for item in items
    ]
    connection = db.session.connection()
    table = Award.__table__
    if new_events:
        run_insert(connection, insert_rows(connection, table, list(rows[0])), rows)
        inserted = {(item.rule_id, item.event_id) for item in items}
    else:
        # One statement, with RETURNING of what went in (a repeat inserts nothing).
        inserted = {
            tuple(row)
            for row in insert_ignoring_duplicates(connection, table, rows, ["rule_id", "event_id"])
        }
    result: list[str | None] = []
    credits = []
    for item in items:
        if (item.rule_id, item.event_id) in inserted:
            result.append(item.award_id)
            if item.status == "granted":
                credits.append(item)
            else:
                rollups.add(
                    db.session, "awards.held", now, item.rule_id, item.network, 1, item.points
                )
        else:
            result.append(None)
    credit(credits, now, balances=balances)
    return result


def pays_without_reads(offers: bool) -> bool:
    """Can ``pay(items, balances=...)`` run inside ``sql.pipelined_writes``? Not when it has
    ``offers`` to grant (inventory is read) or award events to publish (they are ordered
    after rows they look up)."""
    return not offers and not subscriptions.award_events_published()


def credit(items: list[Grant], now, actor: str | None = None, balances=None) -> None:
    """THE path of points to a balance: ledger, balance, offers, and the delivery outbox."""
    if not items:
        return
    members = {item.member_id for item in items}
    if balances is None:
        balances = member_balances(members)
    elif not members <= balances.keys():
        raise ValueError("balances given without every credited member's")
    entries = []
    for item in items:
        rollups.add(db.session, "points", now, item.rule_id, "", 1, item.points)
        rollups.add(db.session, "points.network", now, item.network, "", 1, item.points)
        rollups.add_member(db.session, item.member_id, item.points, 1)
        if item.points:
            state = balances[item.member_id]
            entries.append(_entry(item, "award", item.points, None, now, actor))
            state["points"] += item.points
            if state["debt"] > 0:
                repaid = min(state["debt"], item.points)
                state["debt"] -= repaid
                state["points"] -= repaid
                entries.append(
                    _entry(
                        item,
                        "debt_repayment",
                        -repaid,
                        "repays points owed from a reversal",
                        now,
                        actor,
                    )
                )
            state["dirty"] = True
        purpose = TARGETED if item.consent_ref else None
        for offer_id in item.offers:
            offer_service.grant_offer(
                offer_id, item.member_id, item.award_id, now, consent_purpose=purpose
            )
    _write(entries, balances, now)
    # The outbox rows commit with the awards.
    outbox.record_awards([item for item in items if item.points])


def reverse(
    award_ids: list[str], event_id: str | None, reason: str, actor: str | None = None
) -> list[str]:
    """THE path of a claw-back: mark reversed, ledger entry, balance (policy), outbox row.

    Awards that are not granted (held, rejected, already reversed) are left as they are.
    """
    if not award_ids:
        return []
    awards = list(
        db.session.scalars(
            db.select(Award)
            .where(Award.id.in_(award_ids), Award.status == "granted")
            .order_by(Award.id)
            .with_for_update()
        )
    )
    if not awards:
        return []
    now = utcnow()
    policy = current_app.config["NEGATIVE_BALANCE_POLICY"]
    balances = member_balances({a.member_id for a in awards})
    networks = event_networks({a.event_id for a in awards})
    entries = []
    for award in awards:
        network = networks.get(award.event_id, "")
        rollups.add(db.session, "points.reversed", now, award.rule_id, network, 1, award.points)
        rollups.add_member(db.session, award.member_id, -award.points, -1)
        award.status = "reversed"
        award.reversed_at = now
        award.reason = reason
        award.decided_by = actor
        state = balances[award.member_id]
        take, debt = award.points, 0
        if policy == "floor":
            take = min(award.points, max(state["points"], 0))
            debt = award.points - take
        state["points"] -= take
        state["debt"] += debt
        state["dirty"] = True
        item = Grant(
            award.rule_id,
            award.rule_version,
            event_id or award.event_id,
            award.member_id,
            award.object_key,
            award.points,
            award_id=award.id,
        )
        words = reason if not debt else f"{reason} ({debt} points recorded as debt)"
        entries.append(_entry(item, "reversal", -take, words, now, actor, debt=debt))
    db.session.flush()
    _write(entries, balances, now)
    reversed_ids = [a.id for a in awards]
    outbox.record_reversal(awards, event_id or awards[0].event_id, reason)
    return reversed_ids


def event_networks(event_ids: set[str]) -> dict[str, str]:
    """The network each event names ('' for none): what analytics counts points by."""
    if not event_ids:
        return {}
    network = ActivityEvent.data["network"].as_string()
    rows = db.session.execute(
        db.select(ActivityEvent.id, network).where(ActivityEvent.id.in_(sorted(event_ids)))
    )
    return {event_id: value or "" for event_id, value in rows}


def reverse_object(member_id: str, object_key: str, event_id: str, reason: str) -> list[str]:
    """Claw back every granted award for this member's object (e.g. a removed review)."""
    ids = list(
        db.session.scalars(
            db.select(Award.id).where(
                Award.member_id == member_id,
                Award.object_key == object_key,
                Award.status == "granted",
            )
        )
    )
    return reverse(ids, event_id, reason)


def reject_held_on_object(member_id: str, object_key: str, reason: str) -> list[Award]:
    """A removed object's held awards will never be approved: reject them (caller releases)."""
    awards = list(
        db.session.scalars(
            db.select(Award)
            .where(
                Award.member_id == member_id,
                Award.object_key == object_key,
                Award.status == "held",
            )
            .with_for_update()
        )
    )
    now = utcnow()
    for award in awards:
        award.status, award.reason, award.decided_at = "rejected", reason, now
    return awards


# --- Ledger and balances -------------------------------------------------------------------


_ids = OrderedIds("led")


def _entry(item: Grant, kind, points, reason, now, actor, debt: int = 0) -> dict:
    return {
        "id": _ids.next(),
        "member_id": item.member_id,
        "award_id": item.award_id,
        "event_id": item.event_id,
        "rule_id": item.rule_id,
        "rule_version": item.rule_version,
        "kind": kind,
        "points": points,
        "reason": reason,
        "created_at": now,
        "debt": debt,
        "actor": actor,
    }


def member_balances(member_ids: set[str]) -> dict[str, dict]:
    """Balance state (points, debt) of each of these members (zero without a row yet), for
    ``pay``/``reverse`` to update in memory: read under the members' row locks."""
    state = {m: {"points": 0, "debt": 0, "dirty": False} for m in member_ids}
    for member_id, points, debt in db.session.execute(
        db.select(Balance.member_id, Balance.points, Balance.debt).where(
            Balance.member_id.in_(sorted(member_ids))
        )
    ):
        state[member_id] = {"points": points, "debt": debt or 0, "dirty": False}
    return state


def _write(entries: list[dict], balances: dict, now) -> None:
    connection = db.session.connection()
    if entries:
        ledger = LedgerEntry.__table__
        run_insert(connection, insert_rows(connection, ledger, list(entries[0])), entries)
    rows = [
        {"member_id": m, "points": s["points"], "debt": s["debt"], "updated_at": now}
        for m, s in sorted(balances.items())
        if s["dirty"]
    ]
    for state in balances.values():
        state["dirty"] = False
    if rows:
        run_insert(connection, _balance_upsert(connection.dialect.name), rows)


@functools.lru_cache(maxsize=4)
def _balance_upsert(dialect: str):
    """Balances as absolute values (computed under the members' locks): built once."""
    table = Balance.__table__
    statement = insert_statement(dialect, table, ("member_id", "points", "debt", "updated_at"))
    return statement.on_conflict_do_update(
        index_elements=["member_id"],
        set_={
            "points": statement.excluded.points,
            "debt": statement.excluded.debt,
            "updated_at": statement.excluded.updated_at,
        },
    )


def balance(member_id: str) -> int:
    row = db.session.get(Balance, member_id)
    return row.points if row else 0


def balance_row(member_id: str) -> dict:
    row = db.session.get(Balance, member_id)
    return {
        "member_id": member_id,
        "points": row.points if row else 0,
        "debt": (row.debt or 0) if row else 0,
    }


def ledger(member_id: str, after: str | None = None, limit: int = 50):
    """Newest first, keyset-paginated."""
    return newest_first_page(LedgerEntry, {LedgerEntry.member_id: member_id}, after, limit)
