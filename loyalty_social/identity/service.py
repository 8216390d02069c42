"""Members and their social identities: link, unlink, sign in, sign up, resolve.

Rules this module keeps:
- a social identity (provider + subject) belongs to at most one member, enforced by a partial
  unique index so concurrent links cannot both win; never linked by matching email;
- linking records ``social.linked`` once per member and provider (deterministic webhook id),
  so unlinking and relinking pays nothing twice;
- a member who signs in only with social accounts keeps at least one;
- tokens are stored only where the provider is configured to keep them, and encrypted.

Functions flush; the request or job that called them commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy.exc import IntegrityError

from .. import crypto
from ..consent.service import has_consent
from ..extensions import db
from ..ids import new_id
from ..sql import insert_ignoring_duplicates
from ..timeutil import utcnow
from . import providers
from .models import IdentityFlag, Member, MemberSignIn, SignupTicket, SocialAccount

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
    _insert_members(ordered)
    query = db.select(Member).where(Member.id.in_(ordered)).order_by(Member.id).with_for_update()
    return {member.id: member for member in db.session.scalars(query)}


def _insert_members(member_ids: list[str]) -> None:
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
    _insert_members([member_id])
    row = db.session.get(MemberSignIn, member_id)
    if row is None:
        row = MemberSignIn(member_id=member_id)
        db.session.add(row)
    row.social_only = social_only
    row.updated_at = utcnow()
    db.session.flush()


def _social_only(member_id: str) -> bool:
    row = db.session.get(MemberSignIn, member_id)
    # Unknown: assume the worst, so we never lock a member out.
    return True if row is None else row.social_only


# --- Linking -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkResult:
    account: SocialAccount
    event_id: str | None  # a new social.linked event to dispatch after commit


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


def _handle_key(handle: str | None) -> str | None:
    return handle.strip().lstrip("@").lower() or None if handle else None


def _apply_profile(account: SocialAccount, profile: providers.Profile) -> None:
    account.handle = profile.handle
    account.handle_key = _handle_key(profile.handle)
    account.display_name = profile.display_name
    account.email = profile.email
    account.email_verified = profile.email_verified
    account.avatar_url = profile.avatar_url


def _apply_tokens(
    account: SocialAccount, config: providers.ProviderConfig, token: dict | None
) -> None:
    """Keep the tokens, encrypted, only where a later call needs them; else keep none."""
    account.access_token_enc = account.refresh_token_enc = None
    account.token_expires_at = account.token_scope = None
    if not token or not config.store_tokens or not token.get("access_token"):
        return
    account.access_token_enc = crypto.encrypt(token["access_token"])
    if token.get("refresh_token"):
        account.refresh_token_enc = crypto.encrypt(token["refresh_token"])
    if token.get("expires_at"):
        from datetime import UTC, datetime

        account.token_expires_at = datetime.fromtimestamp(int(token["expires_at"]), UTC)
    account.token_scope = (token.get("scope") or "")[:512] or None


def link(
    member_id: str,
    config: providers.ProviderConfig,
    profile: providers.Profile,
    token: dict | None,
) -> LinkResult:
    """Link the identity to the member (or refresh the link: a reconnect)."""
    from ..intake.service import record_internal_event

    _insert_members([member_id])
    now = utcnow()
    owner = linked_account(config.name, profile.subject)
    if owner is not None and owner.member_id != member_id:
        raise LinkConflict(
            f"This {config.label} account is already linked to another membership. "
            "Nothing was changed."
        )
    current = db.session.scalars(
        db.select(SocialAccount).where(
            SocialAccount.member_id == member_id,
            SocialAccount.provider == config.name,
            SocialAccount.status == "linked",
        )
    ).first()
    if current is not None and current.subject != profile.subject:
        raise LinkConflict(f"You already linked another {config.label} account; unlink it first.")
    account = (
        current
        or db.session.scalars(
            db.select(SocialAccount).where(
                SocialAccount.member_id == member_id,
                SocialAccount.provider == config.name,
                SocialAccount.subject == profile.subject,
            )
        ).first()
    )
    if account is None:
        account = SocialAccount(
            id=new_id("sac"),
            member_id=member_id,
            provider=config.name,
            subject=profile.subject,
            linked_at=now,
        )
        db.session.add(account)
    if account.status != "linked":
        account.linked_at = now
        account.unlinked_at = None
    account.status = "linked"
    account.health = "ok"
    account.health_reason = None
    account.checked_at = now
    account.updated_at = now
    _apply_profile(account, profile)
    _apply_tokens(account, config, token)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise LinkConflict(
            f"This {config.label} account is already linked to another membership. "
            "Nothing was changed."
        ) from None
    event_id = record_internal_event(
        "social.linked",
        member_id,
        {"provider": config.name, "subject": profile.subject},
        webhook_id=f"linked:{member_id}:{config.name}",
    )
    return LinkResult(account, event_id)


def unlink(member_id: str, provider: str) -> None:
    """Drop the link and its tokens. The identity stays as history only with the member's
    consent to profile matching; otherwise the row goes (the ``social.linked`` event, which
    pays once, remains as the ledger's evidence)."""
    linked = linked_accounts(member_id)
    account = next((a for a in linked if a.provider == provider), None)
    if account is None:
        raise NotLinked("This account is not linked.")
    if len(linked) == 1 and _social_only(member_id):
        raise LastSignInMethod(
            "This is the only way you sign in: link another account, or set a password "
            "in the loyalty portal, before unlinking it."
        )
    if has_consent(member_id, MATCHING) is None:
        db.session.delete(account)
    else:
        now = utcnow()
        account.status = "unlinked"
        account.unlinked_at = now
        account.updated_at = now
        account.access_token_enc = account.refresh_token_enc = None
        account.token_expires_at = account.token_scope = None
        account.email = None  # history is who, not how to reach them
    db.session.flush()


def dispatch_after_commit(event_id: str | None) -> None:
    """Send a committed internal event to the rules now; a failure leaves it to the sweeper."""
    if event_id is None:
        return
    from ..intake.committer import dispatch

    try:
        dispatch([event_id], current_app.config["PROCESS_BATCH_SIZE"])
    except Exception:
        db.session.rollback()
        current_app.logger.warning("dispatch of %s failed; the sweeper will retry", event_id)


def rewarded_providers(member_id: str) -> set[str]:
    """Providers whose link already paid (or is being paid) for this member."""
    from ..intake.service import list_events

    events, _ = list_events(type="social.linked", member_id=member_id, limit=200)
    return {event.data.get("provider") for event in events}


def connections(member_id: str) -> list[dict]:
    """What the portal shows: each provider, the member's link, and what linking earns."""
    from ..rules.service import list_rules

    accounts = {a.provider: a for a in linked_accounts(member_id)}
    # The rules' nominal points: what a first link of each provider pays.
    earns = sum(r.points or 0 for r in list_rules(status="active", event_type="social.linked"))
    rewarded = rewarded_providers(member_id)
    return [
        {
            "config": config,
            "account": accounts.get(name),
            "earns": earns,
            "rewarded": name in rewarded,
        }
        for name, config in providers.configs().items()
    ]


def can_unlink(member_id: str) -> bool:
    return len(linked_accounts(member_id)) > 1 or not _social_only(member_id)


# --- Sign-in and sign-up -------------------------------------------------------------------


@dataclass(frozen=True)
class SignIn:
    member_id: str | None  # set: a linked identity signs this member in
    ticket: SignupTicket | None  # set: an unlinked identity may sign up


def _flag(provider: str, subject: str, kind: str, member_ids: list[str], detail: str) -> None:
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


def sign_in(config: providers.ProviderConfig, profile: providers.Profile) -> SignIn:
    """A linked identity signs its member in; an unlinked one gets a sign-up ticket, unless it
    already created a member (then it is refused and flagged)."""
    account = linked_account(config.name, profile.subject)
    if account is not None:
        return SignIn(account.member_id, None)
    earlier = db.session.scalars(
        db.select(SignupTicket.claimed_by).where(
            SignupTicket.provider == config.name,
            SignupTicket.subject == profile.subject,
            SignupTicket.claimed_by.is_not(None),
        )
    ).all()
    if earlier:
        _flag(
            config.name,
            profile.subject,
            "repeat_signup",
            list(earlier),
            "A social identity that already created a membership tried to sign up again.",
        )
        raise DuplicateRefused(
            f"This {config.label} account was already used to create a membership. "
            "Sign in to that membership instead, or contact us."
        )
    now = utcnow()
    ticket = SignupTicket(
        id=new_id("sut"),
        provider=config.name,
        subject=profile.subject,
        profile=profile.as_dict(),
        created_at=now,
        expires_at=now + timedelta(seconds=current_app.config["OAUTH_FLOW_SECONDS"]),
    )
    db.session.add(ticket)
    db.session.flush()
    return SignIn(None, ticket)


def redeem_signup(member_id: str, ticket_id: str) -> LinkResult:
    """The portal created ``member_id`` from a sign-up ticket: link that identity to it.

    Refused and flagged: the identity is meanwhile linked to another member, or another
    member already signed up with it (one identity, several memberships).
    """
    ticket = db.session.get(SignupTicket, ticket_id, with_for_update=True)
    if ticket is None or (ticket.claimed_by is None and ticket.expires_at < utcnow()):
        raise IdentityError("The sign-up has expired; please sign in again.")
    config = providers.get(ticket.provider)
    if config is None:
        raise IdentityError("This provider is not available.")
    if ticket.claimed_by not in (None, member_id):
        _flag(
            ticket.provider,
            ticket.subject,
            "repeat_signup",
            [ticket.claimed_by, member_id],
            "One sign-up ticket was presented for two memberships.",
        )
        raise DuplicateRefused("This sign-up was already completed for another membership.")
    owner = linked_account(ticket.provider, ticket.subject)
    if owner is not None and owner.member_id != member_id:
        _flag(
            ticket.provider,
            ticket.subject,
            "signup_while_linked",
            [owner.member_id, member_id],
            "A social identity linked to one membership was used to sign up another.",
        )
        raise DuplicateRefused(
            f"This {config.label} account already belongs to another membership; "
            "it was not linked. We will review it."
        )
    others = db.session.scalars(
        db.select(SignupTicket.claimed_by).where(
            SignupTicket.provider == ticket.provider,
            SignupTicket.subject == ticket.subject,
            SignupTicket.claimed_by.is_not(None),
            SignupTicket.claimed_by != member_id,
        )
    ).all()
    if others:
        _flag(
            ticket.provider,
            ticket.subject,
            "repeat_signup",
            [*others, member_id],
            "Several memberships signed up from one social identity.",
        )
        raise DuplicateRefused(
            f"This {config.label} account was already used to create another membership; "
            "it was not linked. We will review it."
        )
    ticket.claimed_by = member_id
    ticket.claimed_at = ticket.claimed_at or utcnow()
    profile = providers.Profile(**ticket.profile)
    return link(member_id, config, profile, None)


def list_flags(open_only: bool = True, limit: int = 100) -> list[IdentityFlag]:
    query = db.select(IdentityFlag).order_by(IdentityFlag.created_at.desc()).limit(limit)
    if open_only:
        query = query.where(IdentityFlag.reviewed_at.is_(None))
    return list(db.session.scalars(query))


# --- Identity resolution -------------------------------------------------------------------


def resolve(provider: str, subject_or_handle: str) -> dict | None:
    """Member id, tier and a priority hint for a linked identity whose member consented to
    profile matching; None otherwise, indistinguishable from an unknown identity."""
    account = linked_account(provider, subject_or_handle)
    if account is None:
        key = _handle_key(subject_or_handle)
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
