"""What advocates holds about a member, for export and erasure (``privacy.register``): their
share links with the clicks on them (time, referring host, browser class, whether it counted:
never the visitor hash), referrals they made or came from, referral flags naming them, and
their advocate signals and score. Erasure deletes all of it (the links stop redirecting)."""

from __future__ import annotations

from sqlalchemy import delete, or_

from ..extensions import db
from ..privacy import Erasure, as_dict
from .models import AdvocateScore, AdvocateSignal, Click, Referral, ReferralFlag, ShareLink

LINK_COLUMNS = (
    "code",
    "target_url",
    "network",
    "created_at",
    "disabled_at",
    "verified_at",
    "clicks",
    "bot_clicks",
    "repeat_clicks",
    "last_click_at",
)


def _codes(member_id: str) -> list[str]:
    return list(
        db.session.scalars(db.select(ShareLink.code).where(ShareLink.member_id == member_id))
    )


def export_advocacy(member_id: str) -> dict:
    links = []
    for link in db.session.scalars(
        db.select(ShareLink).where(ShareLink.member_id == member_id).order_by(ShareLink.created_at)
    ):
        clicks = db.session.scalars(
            db.select(Click).where(Click.link_code == link.code).order_by(Click.at)
        )
        links.append(
            as_dict(link, LINK_COLUMNS)
            | {
                "click_log": [
                    as_dict(c, ("at", "referrer_host", "agent", "counted")) for c in clicks
                ]
            }
        )
    referrals = db.session.scalars(
        db.select(Referral).where(
            or_(Referral.sharer_id == member_id, Referral.referred_member_id == member_id)
        )
    )
    score = db.session.get(AdvocateScore, member_id)
    return {
        "share_links": links,
        "referrals": [
            {
                "role": "sharer" if r.sharer_id == member_id else "referred",
                **as_dict(r, ("link_code", "converted_at", "status")),
            }
            for r in referrals
        ],
        "signals": [
            as_dict(s, ("day", "kind", "count"))
            for s in db.session.scalars(
                db.select(AdvocateSignal).where(AdvocateSignal.member_id == member_id)
            )
        ],
        "score": as_dict(score, ("score",)) if score else None,
    }


def erase_advocacy(erasure: Erasure) -> dict:
    member_id = erasure.member_id
    codes = _codes(member_id)
    counts = {}
    referral_filter = or_(Referral.sharer_id == member_id, Referral.referred_member_id == member_id)
    if codes:
        referral_filter = or_(referral_filter, Referral.link_code.in_(codes))
    # The sharer's referral.attributed event (the ledger's evidence) is redacted by intake's
    # eraser, with every other member's referral events that name this one.
    counts["referrals"] = db.session.execute(delete(Referral).where(referral_filter)).rowcount
    counts["referral_flags"] = db.session.execute(
        delete(ReferralFlag).where(
            or_(ReferralFlag.sharer_id == member_id, ReferralFlag.referred_member_id == member_id)
        )
    ).rowcount
    if codes:
        counts["clicks"] = db.session.execute(
            delete(Click).where(Click.link_code.in_(codes))
        ).rowcount
        counts["share_links"] = db.session.execute(
            delete(ShareLink).where(ShareLink.code.in_(codes))
        ).rowcount
    counts["signals"] = db.session.execute(
        delete(AdvocateSignal).where(AdvocateSignal.member_id == member_id)
    ).rowcount
    counts["score"] = db.session.execute(
        delete(AdvocateScore).where(AdvocateScore.member_id == member_id)
    ).rowcount
    return counts


def member_ids() -> list[str]:
    return list(db.session.scalars(db.select(ShareLink.member_id).distinct()))
