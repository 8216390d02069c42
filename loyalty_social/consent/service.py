"""Consent: the current decision, its history, and the one write path that changes it.

Features ask ``has_consent`` / ``current_grants`` at the moment of use, never cache the answer:
a withdrawal, or a policy version that needs fresh consent, takes effect on the next request.
A grant counts only while it was given under a policy version at or after the purpose's
``policies.fresh_from``.

``set_consent`` is the only way a decision changes one at a time (portal, API); ``importer``
the bulk path. Both append a ``ConsentEvent`` (the audit record: what, under which version,
how, by whom, when) and keep ``ConsentRecord`` equal to the member's latest event.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app

from ..analytics import rollups
from ..extensions import db
from ..ids import new_id
from ..outbound import publish
from ..privacy import is_erased
from ..sql import timeline_rows
from ..timeutil import isoformat, utcnow
from . import policies
from .models import ConsentEvent, ConsentRecord
from .policies import ConsentError

SOURCES = ("portal", "backend", "import")
_REACH = "loyalty_social.consent.on_withdrawal"
ACTIVITY = "social_activity_use"
__all__ = [
    "SOURCES",
    "ConsentError",
    "MemberErased",
    "allows_activity_use",
    "current_grants",
    "has_consent",
    "set_consent",
]


class MemberErased(ConsentError):
    """The member was erased: nothing about them is recorded again."""


def on_withdrawal(app: Flask, purpose: str, handler: Callable[[list[str]], object]) -> None:
    """Register what a withdrawal of ``purpose`` must also undo elsewhere (held targeted
    awards, unlinked history); ``handler(member_ids)`` runs in the withdrawal's transaction,
    so both commit or neither does. Features register at app start: consent imports none."""
    app.extensions.setdefault(_REACH, {}).setdefault(purpose, []).append(handler)


def withdrawn(purpose: str, member_ids: list[str]) -> None:
    """Run the registered handlers for members whose ``purpose`` consent was just withdrawn."""
    if member_ids:
        for handler in current_app.extensions.get(_REACH, {}).get(purpose, []):
            handler(member_ids)


def _check_source(source: str) -> None:
    if source not in SOURCES:
        raise ConsentError(f"unknown source {source!r}; one of {', '.join(SOURCES)}")


def _counting(purpose: str):
    return (
        ConsentRecord.granted.is_(True),
        ConsentRecord.purpose == purpose,
        ConsentRecord.policy_version >= policies.fresh_from(purpose),
    )


def has_consent(member_id: str, purpose: str) -> ConsentRecord | None:
    """The member's counting grant for ``purpose``, or None (never asked, withdrawn, or given
    under a policy version that now needs fresh consent)."""
    return current_grants([member_id], purpose).get(member_id)


def current_grants(member_ids: list[str], purpose: str) -> dict[str, ConsentRecord]:
    """``has_consent`` for many members in one query: the counting grants, by member."""
    policies.check(purpose)
    policies.current_versions()
    query = db.select(ConsentRecord).where(
        ConsentRecord.member_id.in_(sorted(set(member_ids))), *_counting(purpose)
    )
    return {record.member_id: record for record in db.session.scalars(query)}


def consenting(member_ids: list[str], purpose: str) -> set[str]:
    """Of these members, those whose consent to ``purpose`` counts now (e.g. to be shown
    among top advocates)."""
    return set(current_grants(member_ids, purpose)) if member_ids else set()


def allows_activity_use(member_ids) -> set[str]:
    """Of these members, those whose social activity may be used beyond plain rewards:
    advocate scoring, per-member analytics, outbound activity events (docs/privacy.md, "The
    social_activity_use line"). One query for any number of members; ask at the moment of
    use, never cache."""
    return set(current_grants(list(member_ids), ACTIVITY))


def set_consent(
    member_id: str,
    purpose: str,
    granted: bool,
    source: str,
    actor: str | None = None,
    policy_version: int | None = None,
) -> ConsentRecord:
    """Record a grant or withdrawal (flushes; the caller's request or job commits) and
    announce ``consent.changed``.

    ``policy_version``: the version the member was shown (default: the current one). Every
    call appends to the history, even when the decision is unchanged: a repeated grant is
    itself evidence of what the member was shown and when.
    """
    policies.check(purpose)
    _check_source(source)
    if is_erased(member_id):
        raise MemberErased("the member's data was erased; nothing about them is recorded")
    current = policies.current_versions()[purpose]
    version = current if policy_version is None else policy_version
    if not 1 <= version <= current:
        raise ConsentError(f"no policy version {version} of {purpose!r}; the current is {current}")
    now = utcnow()
    event = ConsentEvent(
        id=new_id("cev"),
        member_id=member_id,
        purpose=purpose,
        action="granted" if granted else "withdrawn",
        source=source,
        actor=actor,
        at=now,
        policy_version=version,
    )
    db.session.add(event)
    record = db.session.get(ConsentRecord, (member_id, purpose), with_for_update=True)
    count_decision(purpose, record.granted if record is not None else None, granted, now)
    if record is None:
        record = ConsentRecord(member_id=member_id, purpose=purpose)
        db.session.add(record)
    record.granted = granted
    record.source = source
    record.actor = actor
    record.updated_at = now
    record.policy_version = version
    record.event_id = event.id
    db.session.flush()
    publish("consent.changed", changed_payload(event))
    if not granted:
        withdrawn(purpose, [member_id])
    return record


def count_decision(purpose: str, before: bool | None, granted: bool, now) -> None:
    """Analytics: a first decision, an opt-in (not granted -> granted), an opt-out."""
    if before is None:
        rollups.add(db.session, "consent.decided", now, purpose)
    if granted and not before:
        rollups.add(db.session, "consent.opt_in", now, purpose)
    elif before and not granted:
        rollups.add(db.session, "consent.opt_out", now, purpose)


def changed_payload(event: ConsentEvent) -> dict:
    """The ``consent.changed`` event's data (no actor: it may name a person)."""
    return {
        "member_id": event.member_id,
        "purpose": event.purpose,
        "granted": event.action == "granted",
        "policy_version": event.policy_version,
        "source": event.source,
        "consent_id": event.id,
        "at": isoformat(event.at),
    }


def consents(member_id: str) -> list[dict]:
    """Every purpose with the member's current decision, in configuration order.

    ``state``: granted, withdrawn, not_asked, or renewal_needed (granted under a policy version
    that now needs fresh consent: it does not count).
    """
    records = {
        r.purpose: r
        for r in db.session.scalars(
            db.select(ConsentRecord).where(ConsentRecord.member_id == member_id)
        )
    }
    counting_from = policies.counting_from()
    result = []
    for purpose in policies.purposes().values():
        record = records.get(purpose.name)
        if record is None:
            state = "not_asked"
        elif not record.granted:
            state = "withdrawn"
        elif record.policy_version < counting_from[purpose.name]:
            state = "renewal_needed"
        else:
            state = "granted"
        result.append(
            {
                "purpose": purpose.name,
                "label": purpose.label,
                "description": purpose.description,
                "policy": purpose.policy,
                "policy_version": purpose.version,
                "state": state,
                "granted": state == "granted",
                "given_version": record.policy_version if record else None,
                "updated_at": record.updated_at if record else None,
                "source": record.source if record else None,
            }
        )
    return result


def history(member_id: str, purpose: str | None = None) -> list[ConsentEvent]:
    """The member's grants and withdrawals, oldest first."""
    query = (
        db.select(ConsentEvent)
        .where(ConsentEvent.member_id == member_id)
        .order_by(ConsentEvent.at, ConsentEvent.id)
    )
    if purpose is not None:
        policies.check(purpose)
        query = query.where(ConsentEvent.purpose == purpose)
    return list(db.session.scalars(query))


def member_timeline(member_id: str, cursor, limit: int) -> list[dict]:
    """The member's consent changes for their timeline, newest first."""
    query = db.select(ConsentEvent).where(ConsentEvent.member_id == member_id)
    return [
        {
            "at": event.at,
            "source": "consent",
            "id": event.id,
            "kind": f"consent_{event.action}",
            "purpose": event.purpose,
            "via": event.source,
            "policy_version": event.policy_version,
        }
        for event in timeline_rows(
            query, ConsentEvent.at, ConsentEvent.id, "consent", cursor, limit
        )
    ]
