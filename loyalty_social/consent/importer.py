"""Bulk import of consents given before this service (CSV or JSON lines).

All or nothing: every line is checked first and any bad line refuses the whole file (each
reported with its line number); then the events are written in one transaction, in chunks of
plain multi-row INSERTs. Idempotent: an imported event's id is derived from what it says
(member, purpose, decision, policy version, time), so importing a file again inserts nothing
and changes no current state. The current state moves only where an imported decision is newer
than the member's latest one.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import and_, bindparam, select, tuple_, update

from .. import audit
from ..extensions import db
from ..ids import new_id
from ..outbound import publish
from ..privacy import erased_among
from ..sql import insert_ignoring_duplicates, insert_rows, run_insert
from ..timeutil import isoformat, utcnow
from . import policies
from .models import ConsentEvent, ConsentRecord
from .service import count_decision, withdrawn

FORMATS = ("csv", "jsonl")
CHUNK = 1000
MAX_REPORTED = 100  # bad lines listed in one refusal
SOURCE = "import"
REQUIRED = ("member_id", "purpose", "granted", "at")


class ImportRefused(policies.ConsentError):
    """Bad lines: nothing was imported. ``errors``: [{"line": n, "message": ...}]."""

    def __init__(self, errors: list[dict], total_bad: int):
        shown = "; ".join(f"line {e['line']}: {e['message']}" for e in errors[:5])
        super().__init__(f"{total_bad} bad line(s), nothing imported: {shown}")
        self.errors = errors
        self.total_bad = total_bad


class _Line(Schema):
    member_id = fields.String(required=True, validate=validate.Length(1, 128))
    purpose = fields.String(required=True)
    granted = fields.Boolean(required=True)
    at = fields.AwareDateTime(required=True)
    policy_version = fields.Integer(load_default=1, validate=validate.Range(min=1))
    actor = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 128))


_SCHEMA = _Line()


@dataclass(frozen=True)
class Result:
    lines: int
    new: int  # events not seen before
    states_changed: int  # members' current decisions that moved
    erased: int = 0  # lines about erased members, skipped


def read_lines(stream: Iterable[str], fmt: str) -> Iterator[tuple[int, dict | str]]:
    """(line number, fields) per record; a string instead of fields says why it is bad."""
    if fmt == "csv":
        reader = csv.DictReader(stream)
        missing = [name for name in REQUIRED if name not in (reader.fieldnames or [])]
        if missing:
            yield 1, f"the header must name {', '.join(REQUIRED)} (missing: {', '.join(missing)})"
            return
        for record in reader:
            if None in record:
                yield reader.line_num, "more values than the header has columns"
            else:
                yield reader.line_num, {k: v for k, v in record.items() if v not in ("", None)}
        return
    for number, text in enumerate(stream, start=1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except ValueError:
            yield number, "not valid JSON"
            continue
        yield number, record if isinstance(record, dict) else "not a JSON object"


def guess_format(name: str, first_line: str) -> str:
    if name.endswith((".jsonl", ".ndjson", ".json")) or first_line.lstrip().startswith("{"):
        return "jsonl"
    return "csv"


def check(
    records: Iterable[tuple[int, dict | str]], progress: Callable[[int], None] | None = None
) -> list[dict]:
    """Every record validated; raises ``ImportRefused`` listing the bad lines."""
    latest = policies.current_versions()
    soon = utcnow() + timedelta(minutes=5)
    good, errors, bad = [], [], 0
    for number, record in records:
        message = None
        if isinstance(record, str):
            message = record
        else:
            try:
                row = _SCHEMA.load(record, unknown="exclude")
            except ValidationError as error:
                message = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in _flat(error))
            else:
                message = _refuse(row, latest, soon)
                row["line"] = number
        if message:
            bad += 1
            if len(errors) < MAX_REPORTED:
                errors.append({"line": number, "message": message})
        else:
            good.append(row)
        if progress:
            progress(1)
    if not good and not bad:
        errors.append({"line": 1, "message": "no consents to import"})
        bad = 1
    if bad:
        raise ImportRefused(errors, bad)
    return good


def _flat(error: ValidationError):
    messages = error.messages if isinstance(error.messages, dict) else {"line": error.messages}
    return sorted(messages.items())


def _refuse(row: dict, latest: dict[str, int], soon: datetime) -> str | None:
    if row["purpose"] not in latest:
        return f"purpose: unknown {row['purpose']!r}; one of {', '.join(latest)}"
    if row["policy_version"] > latest[row["purpose"]]:
        return (
            f"policy_version: {row['purpose']} has no version {row['policy_version']} "
            f"(the current is {latest[row['purpose']]})"
        )
    if row["at"] > soon:
        return "at: in the future"
    return None


def event_id(row: dict) -> str:
    """The same decision imported twice is the same event."""
    key = "\x1f".join(
        (
            row["member_id"],
            row["purpose"],
            "granted" if row["granted"] else "withdrawn",
            str(row["policy_version"]),
            isoformat(row["at"]),
        )
    )
    return "cim_" + hashlib.sha256(key.encode()).hexdigest()[:32]


def write(rows: list[dict], actor: str, progress: Callable[[int], None] | None = None) -> Result:
    """Insert the checked rows' events and move current states forward (flushes; the caller
    commits once, so a failure part-way leaves nothing)."""
    connection = db.session.connection()
    events, seen = [], set()
    for row in rows:
        identifier = event_id(row)
        if identifier in seen:
            continue
        seen.add(identifier)
        events.append(
            {
                "id": identifier,
                "member_id": row["member_id"],
                "purpose": row["purpose"],
                "action": "granted" if row["granted"] else "withdrawn",
                "source": SOURCE,
                "actor": row["actor"] or actor,
                "at": row["at"],
                "policy_version": row["policy_version"],
            }
        )
    new = 0
    changed = 0
    skipped = 0
    for start in range(0, len(events), CHUNK):
        chunk = events[start : start + CHUNK]
        erased = erased_among({e["member_id"] for e in chunk}, connection)
        if erased:  # an erased member's consents are never recorded again
            skipped += sum(1 for e in chunk if e["member_id"] in erased)
            chunk = [e for e in chunk if e["member_id"] not in erased]
        inserted = {
            r[0]
            for r in insert_ignoring_duplicates(connection, ConsentEvent.__table__, chunk, ["id"])
        }
        new += len(inserted)
        changed += _advance([e for e in chunk if e["id"] in inserted], connection)
        if progress:
            progress(min(CHUNK, len(events) - start))
    if progress and len(rows) > len(events):
        progress(len(rows) - len(events))
    # One row for the import: each decision is itself evidence in consent_event.
    audit.record(
        "consent.imported",
        target=("consent_import", new_id("cim")),
        after={
            "lines": len(rows),
            "new": new,
            "states_changed": changed,
            "erased": skipped,
        },
    )
    return Result(lines=len(rows), new=new, states_changed=changed, erased=skipped)


def _advance(events: list[dict], connection) -> int:
    """Make each member's current decision the newest of theirs, imported or not."""
    newest: dict[tuple[str, str], dict] = {}
    for event in events:
        key = (event["member_id"], event["purpose"])
        if key not in newest or (event["at"], event["id"]) > (
            newest[key]["at"],
            newest[key]["id"],
        ):
            newest[key] = event
    if not newest:
        return 0
    table = ConsentRecord.__table__
    current = {
        (m, p): (at, granted)
        for m, p, at, granted in connection.execute(
            select(table.c.member_id, table.c.purpose, table.c.updated_at, table.c.granted).where(
                tuple_(table.c.member_id, table.c.purpose).in_(list(newest))
            )
        )
    }
    inserts, updates = [], []
    for key, event in newest.items():
        state = {
            "member_id": key[0],
            "purpose": key[1],
            "granted": event["action"] == "granted",
            "source": SOURCE,
            "actor": event["actor"],
            "updated_at": event["at"],
            "policy_version": event["policy_version"],
            "event_id": event["id"],
        }
        if key not in current:
            inserts.append(state)
            count_decision(key[1], None, state["granted"], event["at"])
        elif event["at"] > current[key][0]:
            updates.append({f"new_{k}": v for k, v in state.items()})
            count_decision(key[1], current[key][1], state["granted"], event["at"])
    if inserts:
        run_insert(connection, insert_rows(connection, table, list(inserts[0])), inserts)
    if updates:
        connection.execute(_UPDATE, updates)
    moved = inserts + [{k[4:]: v for k, v in u.items()} for u in updates]
    by_purpose: dict[str, list[str]] = {}
    for state in moved:
        if not state["granted"]:
            by_purpose.setdefault(state["purpose"], []).append(state["member_id"])
    for purpose, member_ids in by_purpose.items():
        withdrawn(purpose, member_ids)
    for state in moved:
        publish(
            "consent.changed",
            {
                "member_id": state["member_id"],
                "purpose": state["purpose"],
                "granted": state["granted"],
                "policy_version": state["policy_version"],
                "source": SOURCE,
                "consent_id": state["event_id"],
                "at": isoformat(state["updated_at"]),
            },
        )
    return len(inserts) + len(updates)


_UPDATE = (
    update(ConsentRecord.__table__)
    .where(
        and_(
            ConsentRecord.__table__.c.member_id == bindparam("new_member_id"),
            ConsentRecord.__table__.c.purpose == bindparam("new_purpose"),
        )
    )
    .values(
        granted=bindparam("new_granted"),
        source=bindparam("new_source"),
        actor=bindparam("new_actor"),
        updated_at=bindparam("new_updated_at"),
        policy_version=bindparam("new_policy_version"),
        event_id=bindparam("new_event_id"),
    )
)
