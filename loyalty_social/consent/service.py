"""Consent: what each purpose covers, the current decision, and its history.

Features ask ``has_consent`` at the moment of use, never cache the answer: a withdrawal takes
effect on the very next request.
"""

from __future__ import annotations

from ..extensions import db
from ..ids import new_id
from ..timeutil import utcnow
from .models import ConsentEvent, ConsentRecord

PURPOSES = {
    "social_profile_matching": (
        "Social care may recognise my linked social profiles as belonging to me, and my "
        "unlinked profiles stay on record as history."
    ),
    "targeted_rewards": "Offers and rewards may be tailored to my social activity.",
}
SOURCES = ("portal", "backend")


class ConsentError(ValueError):
    """An unknown purpose or source; the message says which."""


def _check(purpose: str, source: str | None = None) -> None:
    if purpose not in PURPOSES:
        raise ConsentError(f"unknown purpose {purpose!r}; one of {', '.join(PURPOSES)}")
    if source is not None and source not in SOURCES:
        raise ConsentError(f"unknown source {source!r}; one of {', '.join(SOURCES)}")


def has_consent(member_id: str, purpose: str) -> ConsentRecord | None:
    """The member's current grant for ``purpose``, or None (never asked, or withdrawn)."""
    _check(purpose)
    record = db.session.get(ConsentRecord, (member_id, purpose))
    return record if record is not None and record.granted else None


def current_grants(member_ids: list[str], purpose: str) -> dict[str, ConsentRecord]:
    """``has_consent`` for many members in one query: the granted ones, by member."""
    _check(purpose)
    query = db.select(ConsentRecord).where(
        ConsentRecord.member_id.in_(sorted(set(member_ids))),
        ConsentRecord.purpose == purpose,
        ConsentRecord.granted.is_(True),
    )
    return {record.member_id: record for record in db.session.scalars(query)}


def set_consent(
    member_id: str, purpose: str, granted: bool, source: str, actor: str | None = None
) -> ConsentRecord:
    """Record a grant or withdrawal (flushes; the caller's request or job commits).

    Every call appends to the history, even when the decision is unchanged: a repeated
    grant is itself evidence of what the member was shown and when.
    """
    _check(purpose, source)
    now = utcnow()
    record = db.session.get(ConsentRecord, (member_id, purpose), with_for_update=True)
    if record is None:
        record = ConsentRecord(member_id=member_id, purpose=purpose)
        db.session.add(record)
    record.granted = granted
    record.source = source
    record.actor = actor
    record.updated_at = now
    db.session.add(
        ConsentEvent(
            id=new_id("cev"),
            member_id=member_id,
            purpose=purpose,
            action="granted" if granted else "withdrawn",
            source=source,
            actor=actor,
            at=now,
        )
    )
    db.session.flush()
    return record


def consents(member_id: str) -> list[dict]:
    """Every purpose with the member's current decision (not asked yet: not granted)."""
    records = {
        r.purpose: r
        for r in db.session.scalars(
            db.select(ConsentRecord).where(ConsentRecord.member_id == member_id)
        )
    }
    result = []
    for purpose, description in PURPOSES.items():
        record = records.get(purpose)
        result.append(
            {
                "purpose": purpose,
                "description": description,
                "granted": bool(record and record.granted),
                "updated_at": record.updated_at if record else None,
                "source": record.source if record else None,
            }
        )
    return result


def history(member_id: str, purpose: str | None = None) -> list[ConsentEvent]:
    query = (
        db.select(ConsentEvent)
        .where(ConsentEvent.member_id == member_id)
        .order_by(ConsentEvent.at, ConsentEvent.id)
    )
    if purpose is not None:
        _check(purpose)
        query = query.where(ConsentEvent.purpose == purpose)
    return list(db.session.scalars(query))
