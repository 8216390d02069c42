"""Access and erasure (GDPR Art. 15 and 17): export everything held about a member, erase it,
list and re-apply the erasure log.

One write path: ``erase`` adds the tombstone, runs every registered eraser and appends the
erasure log row in the caller's transaction (the request or command commits), so a failure
part-way leaves the member as they were. Re-applying the log after a restore (``replay``)
goes through ``erase`` too.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable

from .. import audit
from ..extensions import db
from ..ids import new_id
from ..sql import insert_ignoring_duplicates
from ..timeutil import isoformat, utcnow
from .models import ErasureRecord, Tombstone
from .registry import Erasure, parts
from .tombstones import is_erased, member_hash

log = logging.getLogger(__name__)
KINDS = ("erasure", "repeat", "replay")


def export(member_id: str) -> dict:
    """Everything held about the member, by part (each feature's own exporter)."""
    digest = member_hash(member_id)
    document = {
        "member_id": member_id,
        "exported_at": isoformat(utcnow()),
        "erased": is_erased(member_id),
        "erasures": [erasure_dict(r) for r in log_entries(member_hash=digest, limit=1000)],
        "records": {},
    }
    for part in parts():
        if part.export is not None:
            document["records"][part.name] = part.export(member_id)
    return document


def erase(
    member_id: str, actor: str | None = None, kind: str | None = None
) -> tuple[ErasureRecord, bool]:
    """Erase the member (flushes; the caller commits). Returns the log row and whether this
    run removed anything. Asked again, it runs every eraser once more (catching whatever a
    race let in) and logs a ``repeat`` only if it found something."""
    digest = member_hash(member_id)
    now = utcnow()
    added = insert_ignoring_duplicates(
        db.session.connection(),
        Tombstone.__table__,
        [{"member_hash": digest, "erased_at": now}],
        ["member_hash"],
    )
    actor = actor or audit.current_actor()
    erasure = Erasure(member_id, "erased_" + secrets.token_hex(10), actor)
    counts: dict[str, int] = {}
    for part in parts():
        if part.erase is None:
            continue
        for name, count in (part.erase(erasure) or {}).items():
            if count:
                counts[f"{part.name}.{name}"] = counts.get(f"{part.name}.{name}", 0) + count
    db.session.flush()
    first = bool(added)
    if not first and not counts and kind != "replay":
        previous = log_entries(member_hash=digest, limit=1)
        if previous:
            return previous[0], False
    record = ErasureRecord(
        id=new_id("ers"),
        member_hash=digest,
        kind=kind or ("erasure" if first else "repeat"),
        actor=actor[:160],
        at=now,
        counts=counts,
    )
    db.session.add(record)
    audit.record(
        f"member.{record.kind}",
        target=("erasure", record.id),
        after={"kind": record.kind, "counts": counts},
        actor=actor,
    )
    db.session.flush()
    log.info("erasure %s (%s): %d kinds of record", record.id, record.kind, len(counts))
    return record, True


def log_entries(
    member_hash: str | None = None, after: str | None = None, limit: int = 50
) -> list[ErasureRecord]:
    """The erasure log, newest first, keyset-paginated by id."""
    query = db.select(ErasureRecord).order_by(ErasureRecord.id.desc()).limit(limit)
    if member_hash:
        query = query.where(ErasureRecord.member_hash == member_hash)
    if after:
        query = query.where(ErasureRecord.id < after)
    return list(db.session.scalars(query))


def erasure_dict(record: ErasureRecord) -> dict:
    return {
        "id": record.id,
        "member_hash": record.member_hash,
        "kind": record.kind,
        "actor": record.actor,
        "at": record.at,
        "counts": record.counts or {},
    }


def restore_tombstones(entries: Iterable[dict]) -> int:
    """Tombstones from a copy of the log kept outside the database (``member erasures
    --jsonl``): after a restore from a backup older than some erasures. Returns how many
    were missing."""
    rows = {}
    for entry in entries:
        digest = str(entry["member_hash"])
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(f"not a member hash: {digest[:80]!r}")
        rows[digest] = {"member_hash": digest, "erased_at": utcnow()}
    if not rows:
        return 0
    added = insert_ignoring_duplicates(
        db.session.connection(), Tombstone.__table__, list(rows.values()), ["member_hash"]
    )
    return len(list(added))


def held_member_ids() -> set[str]:
    """Every member id any part holds (for ``replay``; an operator's command, not a hot path)."""
    found: set[str] = set()
    for part in parts():
        if part.members is not None:
            found.update(part.members())
    return found


def replay(actor: str | None = None) -> list[ErasureRecord]:
    """Erase again every member a tombstone names whose data is back (after a restore):
    each member id held is hashed and looked up; the matches are erased (kind ``replay``)."""
    tombstones = set(db.session.scalars(db.select(Tombstone.member_hash)))
    records = []
    for member_id in sorted(held_member_ids()):
        if member_hash(member_id) in tombstones:
            record, _ = erase(member_id, actor, kind="replay")
            records.append(record)
    return records
