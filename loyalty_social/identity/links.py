"""Linking and unlinking a member's social accounts, and what the portal shows of them.

A link records the ``social.linked`` event through intake (in the caller's transaction, once
per member and provider, and once per social identity ever, across all members: an identity
moved to another member pays nothing there and is flagged for review);
``dispatch_after_commit`` hands it to the rules after the commit.
What linking earns is the rules' answer, asked by the page (``portal``), not by this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy.exc import IntegrityError

from .. import crypto, outbound
from ..consent.service import has_consent
from ..extensions import db
from ..ids import new_id
from ..intake.committer import dispatch
from ..intake.internal import record_internal_event, redact_internal_event
from ..intake.service import list_events
from ..sql import insert_ignoring_duplicates, timeline_rows
from ..timeutil import isoformat, utcnow
from . import providers
from .models import IdentityFlag, IdentityReward, SocialAccount
from .service import (
    MATCHING,
    LastSignInMethod,
    LinkConflict,
    NotLinked,
    flag,
    handle_key,
    insert_members,
    linked_account,
    linked_accounts,
    social_only,
)

# The flag kind of an identity linked to a second member after its link paid for a first.
REPEAT_LINK = "repeat_link"


@dataclass(frozen=True)
class LinkResult:
    account: SocialAccount
    event_id: str | None  # a new social.linked event to dispatch after commit
    # The identity's link already earned its reward for another member: this one pays nothing.
    rewarded_elsewhere: bool = False


def _apply_profile(account: SocialAccount, profile: providers.Profile) -> None:
    account.handle = profile.handle
    account.handle_key = handle_key(profile.handle)
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
        account.token_expires_at = datetime.fromtimestamp(int(token["expires_at"]), UTC)
    account.token_scope = (token.get("scope") or "")[:512] or None


def link(
    member_id: str,
    config: providers.ProviderConfig,
    profile: providers.Profile,
    token: dict | None,
) -> LinkResult:
    """Link the identity to the member (or refresh the link: a reconnect)."""
    insert_members([member_id])
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
    if current is None:  # a new link, not a reconnect: tell subscribers (no handle, no subject)
        outbound.publish(
            "social.linked",
            {"member_id": member_id, "provider": config.name, "linked_at": isoformat(now)},
        )
    rewarded = _reward_owner(config.name, profile.subject, member_id, now)
    if rewarded != member_id:
        _flag_repeat(config.name, profile.subject, rewarded, member_id)
        return LinkResult(account, None, rewarded_elsewhere=True)
    event_id = record_internal_event(
        "social.linked",
        member_id,
        {"provider": config.name, "subject": profile.subject},
        webhook_id=_linked_webhook_id(member_id, config.name),
    )
    return LinkResult(account, event_id)


def _linked_webhook_id(member_id: str, provider: str) -> str:
    """social.linked happens once per member and provider: its id says so."""
    return f"linked:{member_id}:{provider}"


def _reward_owner(provider: str, subject: str, member_id: str, now) -> str:
    """The member this identity's link rewards: the first ever to link it (this one, if no one
    did before). Kept as a keyed hash, so it outlives the account row (docs/privacy.md)."""
    key = crypto.identity_hash(provider, subject)
    row = {"identity_hash": key, "member_id": member_id, "created_at": now}
    connection = db.session.connection()
    if insert_ignoring_duplicates(connection, IdentityReward.__table__, [row], ["identity_hash"]):
        return member_id
    return db.session.scalar(
        db.select(IdentityReward.member_id).where(IdentityReward.identity_hash == key)
    )


def _flag_repeat(provider: str, subject: str, first: str, member_id: str) -> None:
    """Flagged for review like a duplicate sign-up, once per member it moves to."""
    members = sorted({first, member_id})
    earlier = db.session.scalars(
        db.select(IdentityFlag.member_ids).where(
            IdentityFlag.provider == provider,
            IdentityFlag.subject == subject,
            IdentityFlag.kind == REPEAT_LINK,
        )
    ).all()
    if members not in earlier:
        flag(
            provider,
            subject,
            REPEAT_LINK,
            members,
            "A social identity whose link already earned a reward for one membership was "
            "linked to another; that link earned nothing.",
        )


def unlink(member_id: str, provider: str) -> None:
    """Drop the link and its tokens. The identity stays as history only with the member's
    consent to profile matching; otherwise the row goes (the ``social.linked`` event, which
    pays once, remains as the ledger's evidence)."""
    linked = linked_accounts(member_id)
    account = next((a for a in linked if a.provider == provider), None)
    if account is None:
        raise NotLinked("This account is not linked.")
    if len(linked) == 1 and social_only(member_id):
        raise LastSignInMethod(
            "This is the only way you sign in: link another account, or set a password "
            "in the loyalty portal, before unlinking it."
        )
    now = utcnow()
    kept = has_consent(member_id, MATCHING) is not None
    if not kept:
        _redact_linked_event(account)  # forgotten: the row goes, the event keeps a hash
        db.session.delete(account)
    else:
        account.status = "unlinked"
        account.unlinked_at = now
        account.updated_at = now
        account.access_token_enc = account.refresh_token_enc = None
        account.token_expires_at = account.token_scope = None
        account.email = None  # history is who, not how to reach them
    db.session.flush()
    outbound.publish(
        "social.unlinked",
        {
            "member_id": member_id,
            "provider": provider,
            "unlinked_at": isoformat(now),
            "kept_as_history": kept,
        },
    )


def dispatch_after_commit(event_id: str | None) -> None:
    """Send a committed internal event to the rules now; a failure leaves it to the sweeper."""
    if event_id is None:
        return
    try:
        dispatch([event_id], current_app.config["PROCESS_BATCH_SIZE"])
    except Exception:
        db.session.rollback()
        current_app.logger.warning("dispatch of %s failed; the sweeper will retry", event_id)


def rewarded_providers(member_id: str) -> set[str]:
    """Providers whose link already paid (or is being paid) for this member."""
    events, _ = list_events(type="social.linked", member_id=member_id, limit=200)
    return {event.data.get("provider") for event in events}


def connections(member_id: str) -> list[dict]:
    """What the portal shows: each provider, the member's link, and whether linking it paid."""
    accounts = {a.provider: a for a in linked_accounts(member_id)}
    rewarded = rewarded_providers(member_id)
    return [
        {"config": config, "account": accounts.get(name), "rewarded": name in rewarded}
        for name, config in providers.configs().items()
    ]


def can_unlink(member_id: str) -> bool:
    return len(linked_accounts(member_id)) > 1 or not social_only(member_id)


def forget_unlinked(member_ids: list[str]) -> int:
    """Consent to profile matching withdrawn: the unlinked accounts kept as history go (the
    keyed hash in ``identity_reward`` still stops a link paying twice). Runs in the
    withdrawal's transaction."""
    history = db.session.scalars(
        db.select(SocialAccount).where(
            SocialAccount.member_id.in_(sorted(set(member_ids))),
            SocialAccount.status == "unlinked",
        )
    ).all()
    for account in history:
        _redact_linked_event(account)
        db.session.delete(account)
    db.session.flush()
    return len(history)


def _redact_linked_event(account: SocialAccount) -> None:
    """The social.linked event that paid for a forgotten account keeps only the keyed hash of
    the identity (docs/privacy.md)."""
    redact_internal_event(
        _linked_webhook_id(account.member_id, account.provider),
        "subject",
        account.subject,
        "hmac:" + crypto.identity_hash(account.provider, account.subject),
    )


def member_timeline(member_id: str, cursor, limit: int) -> list[dict]:
    """The member's linked social accounts for their timeline (when linked), newest first:
    the network and handle, never the subject, e-mail or tokens."""
    query = db.select(SocialAccount).where(SocialAccount.member_id == member_id)
    rows = timeline_rows(query, SocialAccount.linked_at, SocialAccount.id, "account", cursor, limit)
    return [
        {
            "at": account.linked_at,
            "source": "account",
            "id": account.id,
            "kind": "account_linked",
            "provider": account.provider,
            "handle": account.handle,
            "status": account.status,
            "unlinked_at": account.unlinked_at,
        }
        for account in rows
    ]
