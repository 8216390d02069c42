"""Cancelling backend calls that must no longer happen: a targeted award's credit or offer
grant whose member withdrew consent to targeted rewards before it was sent.

Only a row never sent is cancelled: not attempted yet, and not held by a delivery job
(``claimed_until`` in the future: the call may be on the wire). A row tried before may have
been applied by the backend even when the answer was lost, so it goes on being retried
under its Idempotency-Key until it is delivered: a row ends delivered or cancelled, never
both, and the backend applies a cancelled one never. ``cancel_unsent`` locks the rows (a
claim skips locked rows), so it and a delivery job never both take one.

Consent is also checked at every claim (``without_consent``): a row never sent whose member
no longer holds the consent it needs (withdrawn, or a policy version that needs fresh
consent) is cancelled there, and the member is handed to ``rewards.cancel_undelivered`` by
job name (rewards takes the award back).
"""

from __future__ import annotations

from ..consent.service import current_grants
from ..extensions import db
from ..queue import enqueue
from ..timeutil import utcnow
from .models import BACKEND, CANCELLED, Delivery

CONSENT_WITHDRAWN = "not sent: the member withdrew consent to targeted rewards"
AFTER_CANCEL_JOB = "rewards.cancel_undelivered"


def without_consent(rows: list[Delivery]) -> set[str]:
    """Ids of the rows whose member no longer holds the consent they need (one query per
    purpose for the whole batch)."""
    needed: dict[str, set[str]] = {}
    for row in rows:
        if row.consent_purpose and row.member_id and not row.attempts:
            needed.setdefault(row.consent_purpose, set()).add(row.member_id)
    refused = set()
    for purpose, members in needed.items():
        granted = current_grants(sorted(members), purpose)
        refused |= {
            r.id
            for r in rows
            if r.consent_purpose == purpose
            and not r.attempts
            and r.member_id in members - granted.keys()
        }
    return refused


def cancel_unsent(kind: str, keys: list[str], reason: str = CONSENT_WITHDRAWN) -> set[str]:
    """Cancel the backend rows of ``kind`` with these idempotency keys (award ids for credits,
    grant ids for offer grants) that were never sent (see above); returns the keys whose
    row is cancelled (now, or already by a claim), in the caller's transaction. Rows that
    had to wait for them are cancelled too."""
    if not keys:
        return set()
    now = utcnow()
    rows = list(
        db.session.scalars(
            db.select(Delivery)
            .where(
                Delivery.target == BACKEND,
                Delivery.kind == kind,
                Delivery.idempotency_key.in_(sorted(set(keys))),
            )
            .order_by(Delivery.id)
            .with_for_update()
        )
    )
    cancelled, newly = set(), []
    for row in rows:
        in_flight = row.claimed_until is not None and row.claimed_until > now
        if row.status == "pending" and not in_flight and not row.attempts:
            row.status, row.last_error = CANCELLED, reason
            newly.append(row)
        if row.status == CANCELLED:
            cancelled.add(row.idempotency_key)
    _cancel_followers([r.id for r in newly], reason)
    db.session.flush()
    return cancelled


def _cancel_followers(ids: list[str], reason: str) -> None:
    while ids:
        followers = list(
            db.session.scalars(
                db.select(Delivery).where(Delivery.after_id.in_(ids), Delivery.status == "pending")
            )
        )
        for row in followers:
            row.status, row.last_error = CANCELLED, reason
        ids = [r.id for r in followers]


def enqueue_after_cancel(member_ids: list[str]) -> None:
    enqueue(AFTER_CANCEL_JOB, member_ids)
