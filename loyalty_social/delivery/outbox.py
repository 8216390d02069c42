"""Writing the transactional outbox, inside the caller's transaction: the backend credit of
each award, the debit of a reversal, offer grants and redemptions, and signed events for
subscribers. The caller's commit makes the rows durable together with what caused them;
``handoff`` then gives them to a delivery job.

Ordering: a row with ``after_id`` waits until that row is delivered (a reversal waits for its
award's credit); when the earlier row is given up on, the later one takes the same status.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..ids import new_id
from ..sql import insert_rows, run_insert
from ..timeutil import isoformat, utcnow
from .adapters import CREDIT, DEBIT, OFFER_GRANT, OFFER_REDEEM, adapter
from .handoff import kick_after_commit
from .models import BACKEND, CANCELLED, EVENT, EVENT_TYPES, GIVEN_UP, TARGETED, Delivery
from .subscriptions import subscribers


def record_awards(grants) -> None:
    """Queue the backend credit of each new award (and publish ``award.created``), for a
    whole batch in one INSERT.

    ``grants``: the ``rewards.service.Grant`` of each award. Call before the commit that writes
    the awards: both land in one transaction.
    """
    if not grants:
        return
    now = utcnow()
    awarded_at = isoformat(now)
    rows = []
    for grant in grants:
        payload = {
            "award_id": grant.award_id,
            "member_id": grant.member_id,
            "points": grant.points,
            "rule_id": grant.rule_id,
            "rule_version": grant.rule_version,
            "event_id": grant.event_id,
            "object_key": grant.object_key,
            "awarded_at": awarded_at,
        }
        purpose = TARGETED if grant.consent_ref else None
        rows.append(
            _row(
                BACKEND,
                CREDIT,
                grant.award_id,
                payload,
                now,
                award_id=grant.award_id,
                consent_purpose=purpose,
            )
        )
    connection = db.session.connection()
    run_insert(connection, insert_rows(connection, Delivery.__table__, list(rows[0])), rows)
    kick_after_commit([row["id"] for row in rows if row["status"] == "pending"])
    if subscribers("award.created") or subscribers("award.delivered"):
        for row in rows:
            publish("award.created", row["payload"], award_id=row["award_id"])
            if row["status"] == "delivered":  # the ledger adapter: our ledger is the record
                delivered = {**row["payload"], "delivered_at": isoformat(row["delivered_at"])}
                publish("award.delivered", delivered, award_id=row["award_id"])


def record_reversal(awards, event_id: str, reason: str) -> list[str]:
    """Queue the backend debit for reversed awards, each ordered after its award's credit.

    ``awards``: what rewards reversed (anything with ``id``, ``member_id``, ``points``): the
    caller hands over what it knows, so delivery never reads rewards' tables.
    """
    ids = []
    for award in awards:
        award_id = award.id
        payload = {
            "award_id": award_id,
            "reversal_of": award_id,
            "member_id": award.member_id,
            "points": award.points,
            "event_id": event_id,
            "reason": reason,
            "reversed_at": isoformat(utcnow()),
        }
        credit = find_before(BACKEND, award_id)
        row = _add(BACKEND, DEBIT, f"{award_id}.reversal", payload, award_id=award_id, after=credit)
        publish("award.reversed", payload, award_id=award_id)
        ids.append(row.id)
    return ids


def record_offer_grant(
    grant_id: str, member_id: str, offer_id: str, consent_purpose: str | None = None, **details
) -> str:
    """Seam for the offers feature: queue "grant this offer" (Idempotency-Key = grant id);
    ``consent_purpose``: the consent the member must still hold when it is sent."""
    payload = {"grant_id": grant_id, "member_id": member_id, "offer_id": offer_id, **details}
    row = _add(BACKEND, OFFER_GRANT, grant_id, payload, consent_purpose=consent_purpose)
    publish("offer.granted", payload)
    return row.id


def record_offer_redemption(grant_id: str, member_id: str, offer_id: str, **details) -> str:
    """Seam for the offers feature: queue "mark redeemed", never before the grant itself."""
    payload = {"grant_id": grant_id, "member_id": member_id, "offer_id": offer_id, **details}
    row = _add(
        BACKEND, OFFER_REDEEM, f"{grant_id}.redeem", payload, after=find_before(BACKEND, grant_id)
    )
    return row.id


def publish(event_type: str, data: dict, *, award_id: str | None = None) -> str | None:
    """Queue a signed outbound event to every subscriber of ``event_type``, in the caller's
    transaction; returns its webhook-id (shared by all subscribers), None if nobody subscribes.

    Events about one award reach each subscriber in order: after that award's ``award.created``.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown outbound event type {event_type!r}")
    targets = subscribers(event_type)
    if not targets:
        return None
    message_id = new_id("msg")
    body = {"type": event_type, "timestamp": isoformat(utcnow()), "data": data}
    for target in targets:
        after = None
        if award_id and event_type != "award.created":
            after = find_before(target, award_id, "award.created")
        _add(target, EVENT, message_id, body, award_id=award_id, event_type=event_type, after=after)
    return message_id


def find_before(target: str, award_or_key: str, event_type: str | None = None) -> Delivery | None:
    """The earlier row a new one must wait for (its award's credit, the award.created event)."""
    query = select(Delivery).where(Delivery.target == target)
    if event_type is None:
        query = query.where(Delivery.idempotency_key == award_or_key)
    else:
        query = query.where(Delivery.award_id == award_or_key, Delivery.event_type == event_type)
    return db.session.scalars(query.limit(1)).first()


def _row(
    target,
    kind,
    key,
    payload,
    now,
    *,
    award_id=None,
    event_type=None,
    after=None,
    consent_purpose=None,
) -> dict:
    """One outbox row: delivered at once by a local adapter, blocked with the row it must
    follow when that one was given up on or cancelled, else pending."""
    status, delivered_at, error = "pending", None, None
    if target == BACKEND and adapter().local:
        status, delivered_at = "delivered", now
    elif after is not None and after.status in (*GIVEN_UP, CANCELLED):
        status, error = after.status, blocked_error(after)
    return {
        "id": new_id("dlv"),
        "target": target,
        "kind": kind,
        "idempotency_key": key,
        "event_type": event_type,
        "award_id": award_id,
        "payload": payload,
        "after_id": after.id if after is not None else None,
        "status": status,
        "attempts": 0,
        "next_attempt_at": now,
        "give_up_at": now + timedelta(seconds=current_app.config["DELIVERY_RETRY_HORIZON_SECONDS"]),
        "enqueued_at": now,  # handed to a job right after the commit
        "created_at": now,
        "delivered_at": delivered_at,
        "last_error": error,
        "member_id": about(payload),
        "consent_purpose": consent_purpose,
        "claimed_until": None,
    }


def about(payload: dict) -> str | None:
    """The member a row's payload names: a backend call's, or an outbound event's data's."""
    member_id = payload.get("member_id") or (payload.get("data") or {}).get("member_id")
    return member_id if isinstance(member_id, str) else None


def _add(
    target, kind, key, payload, *, award_id=None, event_type=None, after=None, consent_purpose=None
) -> Delivery:
    row = Delivery(
        **_row(
            target,
            kind,
            key,
            payload,
            utcnow(),
            award_id=award_id,
            event_type=event_type,
            after=after,
            consent_purpose=consent_purpose,
        )
    )
    db.session.add(row)
    if row.status == "pending":
        kick_after_commit([row.id])
    return row


def delivered_payload(row: Delivery) -> dict:
    return {**row.payload, "delivered_at": isoformat(row.delivered_at)}


def blocked_error(before: Delivery) -> str:
    return f"not sent: {before.id}, which must be delivered first, is {before.status}"
