"""A member's advocates data for export and erasure (the privacy registry's part "advocates").

Export: the member's share links with their counts, when they became tracked, and what their
referrals and flags say about them; never another member's id and never a click row (a click
is someone else's visit). Erasure, in the erasure's transaction (flush, never commit): the
member's links, their clicks and the referrals and flags made through them go; where the
member was the one referred, the sharer's records keep the referral under the erasure's
anonymous id (the sharer's counts and velocity checks stay right); their advocate score goes.
Both are idempotent.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select, update

from ..extensions import db
from ..intake.internal import redact_internal_event
from .models import Click, Referral, ReferralFlag, ShareLink
from .scoring import forget

LINK_FIELDS = (
    "code",
    "target_url",
    "created_at",
    "disabled_at",
    "network",
    "verified_at",
    "clicks",
    "bot_clicks",
    "repeat_clicks",
    "last_click_at",
)


def _iso(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def export_member(member_id: str) -> dict:
    links = db.session.scalars(
        select(ShareLink).where(ShareLink.member_id == member_id).order_by(ShareLink.created_at)
    ).all()
    made = db.session.execute(
        select(Referral.status, func.count())
        .where(Referral.sharer_id == member_id)
        .group_by(Referral.status)
    ).all()
    referred = db.session.get(Referral, member_id)
    flags = db.session.scalars(
        select(ReferralFlag)
        .where(ReferralFlag.sharer_id == member_id)
        .order_by(ReferralFlag.created_at)
    ).all()
    return {
        "share_links": [{f: _iso(getattr(link, f)) for f in LINK_FIELDS} for link in links],
        "referrals_made": {status: count for status, count in made},
        "referred_through_a_share_link_at": _iso(referred.converted_at) if referred else None,
        "referral_flags": [
            {
                "kind": flag.kind,
                "detail": flag.detail,
                "created_at": _iso(flag.created_at),
                "resolved_at": _iso(flag.resolved_at),
            }
            for flag in flags
        ],
    }


def erase_member(erasure) -> dict[str, int]:
    """``erasure``: the privacy registry's Erasure (``member_id``, ``anonymous_id``)."""
    member_id, anonymous_id = erasure.member_id, erasure.anonymous_id
    codes = select(ShareLink.code).where(ShareLink.member_id == member_id)
    counts = {
        "clicks": db.session.execute(delete(Click).where(Click.link_code.in_(codes))).rowcount,
        "referral_flags": db.session.execute(
            delete(ReferralFlag).where(
                (ReferralFlag.sharer_id == member_id) | ReferralFlag.link_code.in_(codes)
            )
        ).rowcount,
        "referrals": db.session.execute(
            delete(Referral).where(Referral.link_code.in_(codes))
        ).rowcount,
    }
    counts["share_links"] = db.session.execute(
        delete(ShareLink).where(ShareLink.member_id == member_id)
    ).rowcount
    referred = db.session.execute(
        update(Referral)
        .where(Referral.referred_member_id == member_id)
        .values(referred_member_id=anonymous_id)
    ).rowcount
    db.session.execute(
        update(ReferralFlag)
        .where(ReferralFlag.referred_member_id == member_id)
        .values(referred_member_id=anonymous_id)
    )
    # The sharer's referral.attributed event named the member: it keeps the anonymous id.
    redact_internal_event(f"referral:{member_id}", "referred_member_id", member_id, anonymous_id)
    counts["referred_anonymised"] = referred
    forget([member_id])
    db.session.flush()
    return counts
