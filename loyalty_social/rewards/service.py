"""Points: grant once per (rule, event), reverse with a reason, read balances and ledgers."""

from __future__ import annotations

from dataclasses import dataclass

from ..extensions import db
from ..ids import new_id
from ..sql import dialect_insert, insert_ignoring_duplicates
from ..timeutil import utcnow
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


def grant(item: Grant) -> str | None:
    """Write the award, its ledger entry and the balance; None if this rule already paid."""
    award_id = new_id("awd")
    now = utcnow()
    inserted = insert_ignoring_duplicates(
        db.session.connection(),
        Award.__table__,
        [
            {
                "id": award_id,
                "rule_id": item.rule_id,
                "rule_version": item.rule_version,
                "event_id": item.event_id,
                "member_id": item.member_id,
                "object_key": item.object_key,
                "points": item.points,
                "status": "granted",
                "created_at": now,
                "reversed_at": None,
            }
        ],
        ["rule_id", "event_id"],
    )
    if not inserted:
        return None
    _append(award_id, item, "award", item.points, None, now)
    return award_id


def reverse_object(member_id: str, object_key: str, event_id: str, reason: str) -> list[str]:
    """Claw back every granted award for this member's object (e.g. a removed review)."""
    awards = db.session.scalars(
        db.select(Award)
        .where(
            Award.member_id == member_id,
            Award.object_key == object_key,
            Award.status == "granted",
        )
        .with_for_update()
    )
    reversed_ids = []
    now = utcnow()
    for award in awards:
        award.status = "reversed"
        award.reversed_at = now
        item = Grant(
            award.rule_id, award.rule_version, event_id, member_id, object_key, award.points
        )
        _append(award.id, item, "reversal", -award.points, reason, now)
        reversed_ids.append(award.id)
    return reversed_ids


def _append(award_id: str, item: Grant, kind: str, points: int, reason, now) -> None:
    db.session.add(
        LedgerEntry(
            id=new_id("led"),
            member_id=item.member_id,
            award_id=award_id,
            event_id=item.event_id,
            rule_id=item.rule_id,
            rule_version=item.rule_version,
            kind=kind,
            points=points,
            reason=reason,
            created_at=now,
        )
    )
    _add_to_balance(item.member_id, points, now)


def _add_to_balance(member_id: str, delta: int, now) -> None:
    connection = db.session.connection()
    table = Balance.__table__
    statement = dialect_insert(connection, table).values(
        member_id=member_id, points=delta, updated_at=now
    )
    statement = statement.on_conflict_do_update(
        index_elements=["member_id"],
        set_={"points": table.c.points + statement.excluded.points, "updated_at": now},
    )
    db.session.flush()
    connection.execute(statement)


def balance(member_id: str) -> int:
    row = db.session.get(Balance, member_id)
    return row.points if row else 0


def ledger(member_id: str, after: str | None = None, limit: int = 50):
    """Newest first, keyset-paginated."""
    query = (
        db.select(LedgerEntry)
        .where(LedgerEntry.member_id == member_id)
        .order_by(LedgerEntry.id.desc())
        .limit(limit + 1)
    )
    if after:
        query = query.where(LedgerEntry.id < after)
    rows = list(db.session.scalars(query))
    next_after = rows[limit - 1].id if len(rows) > limit else None
    return rows[:limit], next_after
