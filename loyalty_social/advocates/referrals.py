"""Attribution: a ``member.signed_up`` or ``referral.converted`` whose ``referral_code`` names a
share link (the code, or the referral cookie's ``<code>.<visitor>`` passed on by the portal)
credits the link's member, within REFERRAL_WINDOW_DAYS of the link's last click, once per
referred member: ``referral.attributed`` for the sharer, which rules pay on.

Fraud checks, in the conversion's transaction:
- self-referral (refused and flagged): the sharer is the referred member; the two share a
  social identity (``identity.service.share_an_identity``); or the visitor who converted is
  the one who created the link in the portal;
- velocity (credited but held for review, and flagged): more than REFERRAL_VISITOR_MAX
  conversions from one visitor within a day, or more than REFERRAL_BURST_MAX credited to one
  sharer within REFERRAL_BURST_SECONDS. ``referral.attributed`` then carries ``review``, so
  every award it earns waits in the approval queue.
"""

from __future__ import annotations

import re
from datetime import timedelta

from flask import current_app
from sqlalchemy import func

from ..analytics import rollups
from ..extensions import db
from ..identity.service import share_an_identity
from ..ids import new_id
from ..intake.catalogue import referral_key
from ..intake.internal import record_internal_event
from ..sql import insert_ignoring_duplicates
from ..timeutil import utcnow
from .models import Referral, ReferralFlag, ShareLink

ATTRIBUTED = "referral.attributed"
_VALUE = re.compile(r"([A-Za-z0-9]{1,16})(?:\.([0-9a-f]{32}))?")


def parse_referral(value: str | None) -> tuple[str, str | None] | None:
    """``<code>`` or ``<code>.<visitor>`` (the referral cookie), else None."""
    match = _VALUE.fullmatch((value or "").strip())
    return (match.group(1), match.group(2)) if match else None


def attribute(event) -> str | None:
    """Credit the sharer for this conversion, or refuse it; returns a new referral.attributed
    event id (to dispatch after commit), None otherwise."""
    parsed = parse_referral((event.data or {}).get("referral_code"))
    if parsed is None:
        return None
    code, visitor = parsed
    link = db.session.get(ShareLink, code)
    if link is None:  # a code of the loyalty program's own, not a share link
        return None
    referred = (
        event.member_id if event.type == "member.signed_up" else event.data["referred_member_id"]
    )
    config = current_app.config
    reference = max(link.created_at, link.last_click_at or link.created_at)
    if event.occurred_at - reference > timedelta(days=config["REFERRAL_WINDOW_DAYS"]):
        return None
    row = {
        "referred_member_id": referred,
        "link_code": code,
        "sharer_id": link.member_id,
        "visitor": visitor,
        "event_id": event.id,
        "converted_at": event.occurred_at,
        "status": "refused",
        "attributed_event_id": None,
    }
    # One per referred member: the first conversion event decides (under its unique key).
    if not insert_ignoring_duplicates(
        db.session.connection(), Referral.__table__, [row], ["referred_member_id"]
    ):
        return None
    referral = db.session.get(Referral, referred)
    refused = _self_referral(link, referred, visitor)
    if refused:
        _flag(refused[0], referral, refused[1])
        return None
    review = _velocity(referral, config)
    referral.status = "held" if review else "credited"
    rollups.add(db.session, "advocates.signup", event.occurred_at)  # the funnel's last step
    data = {"share_code": code, "referred_member_id": referred, "via": event.type}
    if review:
        _flag(review[0], referral, review[1])
        data["review"] = review[1]
    referral.attributed_event_id = record_internal_event(
        ATTRIBUTED, link.member_id, data, webhook_id=referral_key(referred)
    )
    return referral.attributed_event_id


def _self_referral(link: ShareLink, referred: str, visitor: str | None):
    if referred == link.member_id:
        return "self_member", "The member signed up through their own share link."
    if visitor and visitor == link.creator_visitor:
        return "self_visitor", "The visitor who converted is the one who created the link."
    if share_an_identity(link.member_id, referred):
        return (
            "self_identity",
            "The referred member and the sharer share a social identity.",
        )
    return None


def _velocity(referral: Referral, config):
    """Too many conversions from one visitor, or a burst for one sharer: hold for review."""
    counted = Referral.status != "refused"
    at = referral.converted_at
    others = Referral.referred_member_id != referral.referred_member_id
    if referral.visitor:
        from_visitor = db.session.scalar(
            db.select(func.count()).where(
                Referral.visitor == referral.visitor,
                Referral.converted_at > at - timedelta(days=1),
                counted,
                others,
            )
        )
        if from_visitor >= config["REFERRAL_VISITOR_MAX"]:
            return (
                "visitor_velocity",
                f"{from_visitor + 1} conversions from one visitor within a day "
                f"(more than {config['REFERRAL_VISITOR_MAX']})",
            )
    burst = db.session.scalar(
        db.select(func.count()).where(
            Referral.sharer_id == referral.sharer_id,
            Referral.converted_at > at - timedelta(seconds=config["REFERRAL_BURST_SECONDS"]),
            counted,
            others,
        )
    )
    if burst >= config["REFERRAL_BURST_MAX"]:
        return (
            "burst",
            f"{burst + 1} referrals for one member within {config['REFERRAL_BURST_SECONDS']} s "
            f"(more than {config['REFERRAL_BURST_MAX']})",
        )
    return None


def _flag(kind: str, referral: Referral, detail: str) -> None:
    db.session.add(
        ReferralFlag(
            id=new_id("rfl"),
            kind=kind,
            sharer_id=referral.sharer_id,
            referred_member_id=referral.referred_member_id,
            link_code=referral.link_code,
            event_id=referral.event_id,
            detail=detail,
            created_at=utcnow(),
        )
    )
