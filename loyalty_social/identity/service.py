"""Members and the social identities linked to them: the member rows, lookups of linked
accounts, and resolution ("is this social profile one of our members?").

Rules this feature keeps (here and in ``links``/``signup``):
- a social identity (provider + subject) belongs to at most one member, enforced by a partial
  unique index so concurrent links cannot both win; never linked by matching email;
- linking records ``social.linked`` once per member and provider (deterministic webhook id),
  so unlinking and relinking pays nothing twice;
- a member who signs in only with social accounts keeps at least one;
- tokens are stored only where the provider is configured to keep them, and encrypted.

Functions flush; the request or job that called them commits.
"""

from __future__ import annotations

from flask import current_app

from .. import crypto
from ..consent.service import has_consent
from ..extensions import db
from ..ids import new_id
from ..sql import insert_ignoring_duplicates
from ..timeutil import utcnow
from .models import (
    IdentityFlag,
    IdentityReward,
    Member,
    MemberSignIn,
    SignupTicket,
    SocialAccount,
)

MATCHING = "social_profile_matching"


class IdentityError(ValueError):
    """A refused identity operation; the message is safe to show to the member."""


class LinkConflict(IdentityError):
    pass


class LastSignInMethod(IdentityError):
    pass


class NotLinked(IdentityError):
    pass


class DuplicateRefused(IdentityError):
    """Refused as a possible duplicate account; a flag was flushed for review."""


# --- Members -------------------------------------------------------------------------------


def lock_members(member_ids: list[str]) -> dict[str, Member]:
    """Create missing members, then lock all of them (sorted, so workers never deadlock).

    Holding the member rows for the batch's transaction serialises evaluation per member across
    workers: limits and reversals for one member are decided one event at a time.
    """
    ordered = sorted(set(member_ids))
    if not ordered:
        return {}
    insert_members(ordered)
    query = db.select(Member).where(Member.id.in_(ordered)).order_by(Member.id).with_for_update()
    return {member.id: member for member in db.session.scalars(query)}


def insert_members(member_ids: list[str]) -> None:
    now = utcnow()
    insert_ignoring_duplicates(
        db.session.connection(),
        Member.__table__,
        [
            {"id": mid, "tier": None, "attributes": {}, "created_at": now, "updated_at": now}
            for mid in member_ids
        ],
        ["id"],
    )


def apply_update(member: Member, tier: str | None, attributes: dict | None) -> None:
    if tier is not None:
        member.tier = tier
    if attributes:
        member.attributes = {**(member.attributes or {}), **attributes}
    member.updated_at = utcnow()


def get_member(member_id: str) -> Member | None:
    return db.session.get(Member, member_id)


def record_sign_in_methods(member_id: str, social_only: bool) -> None:
    """Remember what the portal's latest assertion said about the member's other ways in."""
    insert_members([member_id])
    row = db.session.get(MemberSignIn, member_id)
    if row is None:
        row = MemberSignIn(member_id=member_id)
        db.session.add(row)
    row.social_only = social_only
    row.updated_at = utcnow()
    db.session.flush()


def social_only(member_id: str) -> bool:
    row = db.session.get(MemberSignIn, member_id)
    # Unknown: assume the worst, so we never lock a member out.
    return True if row is None else row.social_only


# --- Linked accounts -----------------------------------------------------------------------


def linked_account(provider: str, subject: str) -> SocialAccount | None:
    return db.session.scalars(
        db.select(SocialAccount).where(
            SocialAccount.provider == provider,
            SocialAccount.subject == subject,
            SocialAccount.status == "linked",
        )
    ).first()


def linked_accounts(member_id: str) -> list[SocialAccount]:
    return list(
        db.session.scalars(
            db.select(SocialAccount)
            .where(SocialAccount.member_id == member_id, SocialAccount.status == "linked")
            .order_by(SocialAccount.provider)
        )
    )


def share_an_identity(member_a: str, member_b: str) -> bool:
    """Has one social identity been both members'? Linked now or kept as history, claimed by a
    sign-up, or remembered (by its keyed hash) as the one whose link paid the other: a
    referral between them is a member referring themself."""

    def identities(member_id: str) -> set[tuple[str, str]]:
        accounts = db.select(SocialAccount.provider, SocialAccount.subject).where(
            SocialAccount.member_id == member_id
        )
        tickets = db.select(SignupTicket.provider, SignupTicket.subject).where(
            SignupTicket.claimed_by == member_id
        )
        return {tuple(r) for r in db.session.execute(accounts.union(tickets))}

    of_a, of_b = identities(member_a), identities(member_b)
    if of_a & of_b:
        return True
    hashes = {
        crypto.identity_hash(p, s): m
        for m, ids in ((member_a, of_a), (member_b, of_b))
        for p, s in ids
    }
    if not hashes:
        return False
    rewarded = db.session.execute(
        db.select(IdentityReward.identity_hash, IdentityReward.member_id).where(
            IdentityReward.identity_hash.in_(hashes)
        )
    )
    return any(owner != hashes[key] and owner in (member_a, member_b) for key, owner in rewarded)


def linked_providers(member_ids: list[str]) -> dict[str, list[str]]:
    """The providers each member has a linked account with (sorted), in one query."""
    query = (
        db.select(SocialAccount.member_id, SocialAccount.provider)
        .where(
            SocialAccount.member_id.in_(sorted(set(member_ids))),
            SocialAccount.status == "linked",
        )
        .distinct()
        .order_by(SocialAccount.member_id, SocialAccount.provider)
    )
    providers: dict[str, list[str]] = {}
    for member_id, provider in db.session.execute(query):
        providers.setdefault(member_id, []).append(provider)
    return providers


def handle_key(handle: str | None) -> str | None:
    return handle.strip().lstrip("@").lower() or None if handle else None


# --- Identity resolution -------------------------------------------------------------------


def resolve(provider: str, subject_or_handle: str) -> dict | None:
    """Member id, tier and a priority hint for a linked identity whose member consented to
    profile matching; None otherwise, indistinguishable from an unknown identity."""
    account = linked_account(provider, subject_or_handle)
    if account is None:
        key = handle_key(subject_or_handle)
        if key:
            account = db.session.scalars(
                db.select(SocialAccount)
                .where(
                    SocialAccount.provider == provider,
                    SocialAccount.handle_key == key,
                    SocialAccount.status == "linked",
                )
                .order_by(SocialAccount.linked_at.desc())
            ).first()
    if account is None or has_consent(account.member_id, MATCHING) is None:
        return None
    member = db.session.get(Member, account.member_id)
    tier = member.tier if member else None
    high = {t.strip() for t in current_app.config["CARE_PRIORITY_TIERS"].split(",") if t.strip()}
    return {
        "member_id": account.member_id,
        "tier": tier,
        "priority": "high" if tier in high else "normal",
    }


def flag(provider: str, subject: str, kind: str, member_ids: list[str], detail: str) -> None:
    """Record a possible duplicate account for the marketer's review (flushes)."""
    db.session.add(
        IdentityFlag(
            id=new_id("flg"),
            provider=provider,
            subject=subject,
            kind=kind,
            member_ids=sorted(set(member_ids)),
            detail=detail,
            created_at=utcnow(),
        )
    )
    db.session.flush()
