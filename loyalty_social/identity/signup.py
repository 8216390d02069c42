"""Signing in with a social account, and signing up from one: a linked identity signs its
member in; an unlinked one gets a sign-up ticket the portal redeems once. Repeats (one identity,
several memberships) are refused and flagged for review."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app

from ..extensions import db
from ..ids import new_id
from ..timeutil import utcnow
from . import providers
from .links import LinkResult, link
from .models import SignupTicket
from .service import DuplicateRefused, IdentityError, flag, linked_account


@dataclass(frozen=True)
class SignIn:
    member_id: str | None  # set: a linked identity signs this member in
    ticket: SignupTicket | None  # set: an unlinked identity may sign up


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
        flag(
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
        flag(
            ticket.provider,
            ticket.subject,
            "repeat_signup",
            [ticket.claimed_by, member_id],
            "One sign-up ticket was presented for two memberships.",
        )
        raise DuplicateRefused("This sign-up was already completed for another membership.")
    owner = linked_account(ticket.provider, ticket.subject)
    if owner is not None and owner.member_id != member_id:
        flag(
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
        flag(
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
