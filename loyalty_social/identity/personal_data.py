"""What identity holds about a member, for export and erasure (``privacy.register``): the
member row, sign-in methods, linked and unlinked social accounts (tokens never exported; on
erasure revoked at the provider where it offers RFC 7009 revocation, then deleted), flags and
the keyed hashes of identities that earned a link reward."""

from __future__ import annotations

import logging

from authlib.integrations.requests_client import OAuth2Session
from flask import current_app
from sqlalchemy import delete, update

from .. import crypto
from ..extensions import db
from ..privacy import Erasure, as_dict
from . import providers
from .models import (
    IdentityFlag,
    IdentityReward,
    Member,
    MemberSignIn,
    OAuthFlow,
    SignupTicket,
    SocialAccount,
)

log = logging.getLogger(__name__)
ACCOUNT_COLUMNS = (
    "id",
    "provider",
    "subject",
    "handle",
    "display_name",
    "email",
    "email_verified",
    "avatar_url",
    "status",
    "health",
    "health_reason",
    "token_expires_at",
    "token_scope",
    "linked_at",
    "unlinked_at",
    "checked_at",
)


def export_member(member_id: str) -> dict | None:
    member = db.session.get(Member, member_id)
    if member is None:
        return None
    found = as_dict(member, ("id", "tier", "attributes", "created_at", "updated_at"))
    sign_in = db.session.get(MemberSignIn, member_id)
    found["social_only"] = sign_in.social_only if sign_in else None
    return found


def export_identity(member_id: str) -> dict:
    accounts = db.session.scalars(
        db.select(SocialAccount)
        .where(SocialAccount.member_id == member_id)
        .order_by(SocialAccount.linked_at)
    )
    return {
        "social_accounts": [
            as_dict(a, ACCOUNT_COLUMNS)
            | {"tokens_stored": bool(a.access_token_enc or a.refresh_token_enc)}
            for a in accounts
        ],
        "flags": [
            as_dict(f, ("id", "kind", "provider", "subject", "detail", "created_at"))
            for f in _flags(member_id)
        ],
        "rewarded_identities": [
            as_dict(r, ("identity_hash", "created_at"))
            for r in db.session.scalars(
                db.select(IdentityReward).where(IdentityReward.member_id == member_id)
            )
        ],
    }


def _flags(member_id: str) -> list[IdentityFlag]:
    """Flags naming the member (a JSON list: read and filtered here; the table is small)."""
    rows = db.session.scalars(db.select(IdentityFlag).order_by(IdentityFlag.created_at))
    return [f for f in rows if member_id in (f.member_ids or [])]


def start_erasure(erasure: Erasure) -> dict:
    """Lock the member first: processing holds the same lock, so a batch in flight for them
    finishes before anything is erased. (The anonymous member their financial records move
    to is made by rewards, only when it has something to move.)"""
    db.session.execute(
        db.select(Member.id).where(Member.id == erasure.member_id).with_for_update()
    ).all()
    return {}


def erase_identity(erasure: Erasure) -> dict:
    member_id = erasure.member_id
    accounts = list(
        db.session.scalars(db.select(SocialAccount).where(SocialAccount.member_id == member_id))
    )
    counts = {"social_accounts": len(accounts)}
    for account in accounts:
        for outcome in revoke_tokens(account):
            counts[f"tokens_{outcome}"] = counts.get(f"tokens_{outcome}", 0) + 1
        db.session.delete(account)
    flags = _flags(member_id)
    for flag in flags:
        db.session.delete(flag)
    counts["flags"] = len(flags)
    counts["sign_in"] = db.session.execute(
        delete(MemberSignIn).where(MemberSignIn.member_id == member_id)
    ).rowcount
    counts["oauth_flows"] = db.session.execute(
        delete(OAuthFlow).where(OAuthFlow.member_id == member_id)
    ).rowcount
    counts["signup_tickets"] = db.session.execute(
        delete(SignupTicket).where(SignupTicket.claimed_by == member_id)
    ).rowcount
    # The keyed hash stays (an identity still earns its link reward once, ever), unlinked
    # from the member.
    counts["rewarded_identities"] = db.session.execute(
        update(IdentityReward)
        .where(IdentityReward.member_id == member_id)
        .values(member_id=erasure.anonymous_id)
    ).rowcount
    db.session.flush()
    return counts


def finish_erasure(erasure: Erasure) -> dict:
    """The member row goes last: every record pointing at it has moved or gone."""
    gone = db.session.execute(delete(Member).where(Member.id == erasure.member_id)).rowcount
    return {"member": gone}


def revoke_tokens(account: SocialAccount) -> list[str]:
    """Revoke the account's stored tokens at the provider (RFC 7009, the revocation endpoint
    from its metadata or ``revocation_url``), then forget them. One outcome per token:
    ``revoked``, ``unrevocable`` (the provider offers no revocation) or ``revocation_failed``
    (it refused or was unreachable: the token is deleted anyway)."""
    tokens = [
        (hint, crypto.decrypt(value))
        for hint, value in (
            ("refresh_token", account.refresh_token_enc),
            ("access_token", account.access_token_enc),
        )
        if value
    ]
    account.access_token_enc = account.refresh_token_enc = None
    if not tokens:
        return []
    endpoint, session = _revocation(account.provider)
    if endpoint is None:
        return ["unrevocable"] * len(tokens)
    outcomes = []
    with session:
        for hint, token in tokens:
            try:
                response = session.revoke_token(endpoint, token=token, token_type_hint=hint)
                outcomes.append("revoked" if response.status_code == 200 else "revocation_failed")
            except Exception as error:
                log.warning("token revocation at %s failed: %s", account.provider, type(error))
                outcomes.append("revocation_failed")
    return outcomes


def _revocation(provider: str) -> tuple[str | None, OAuth2Session | None]:
    options = current_app.config["OAUTH_PROVIDERS"].get(provider) or {}
    endpoint = options.get("revocation_url")
    if not endpoint and provider in providers.configs():
        try:
            metadata = providers.client(provider).load_server_metadata()
            endpoint = metadata.get("revocation_endpoint")
        except Exception as error:
            log.warning("metadata of %s unavailable: %s", provider, type(error).__name__)
    if not endpoint:
        return None, None
    # Authlib's own keywords: an unknown ``timeout=`` would be swallowed (no timeout at all),
    # and the revocation call authenticates like the token call, as the provider registered us.
    method = options.get("token_endpoint_auth_method", "client_secret_basic")
    session = OAuth2Session(
        options.get("client_id"),
        options.get("client_secret"),
        token_endpoint_auth_method=method,
        revocation_endpoint_auth_method=method,
        default_timeout=current_app.config["OAUTH_HTTP_TIMEOUT_SECONDS"],
    )
    return endpoint, session


def member_ids() -> list[str]:
    return list(db.session.scalars(db.select(Member.id)))
