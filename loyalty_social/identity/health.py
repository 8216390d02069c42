"""Account health: where tokens are kept, notice expired or revoked grants.

A link whose access token no longer works (and whose refresh token, if any, cannot renew it)
is marked ``needs_attention``; the portal then asks the member to reconnect. Network trouble
changes nothing (the next run tries again): only the provider's own "no" marks a link.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import or_

from .. import crypto
from ..extensions import db
from ..timeutil import utcnow
from . import providers
from .models import SocialAccount

log = logging.getLogger(__name__)


def due_accounts(limit: int) -> list[str]:
    cutoff = utcnow() - timedelta(seconds=current_app.config["ACCOUNT_HEALTH_EVERY_SECONDS"])
    query = (
        db.select(SocialAccount.id)
        .where(
            SocialAccount.status == "linked",
            SocialAccount.health == "ok",
            SocialAccount.access_token_enc.is_not(None),
            or_(SocialAccount.checked_at.is_(None), SocialAccount.checked_at <= cutoff),
        )
        .order_by(SocialAccount.checked_at)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def check_accounts(account_ids: list[str]) -> dict[str, str]:
    """Check each account; commit each result on its own. Returns id -> ok|needs_attention|
    unknown."""
    results = {}
    for account_id in account_ids:
        account = db.session.get(SocialAccount, account_id)
        if account is None or account.status != "linked" or not account.access_token_enc:
            continue
        config = providers.get(account.provider)
        if config is None:
            continue
        try:
            outcome, reason = _check(account, config)
        except Exception:
            log.exception("health check of %s failed", account_id)
            outcome, reason = "unknown", None
        account.checked_at = utcnow()
        if outcome == "needs_attention":
            account.health = "needs_attention"
            account.health_reason = reason
        db.session.commit()
        results[account_id] = outcome
    return results


def _check(account: SocialAccount, config: providers.ProviderConfig) -> tuple[str, str | None]:
    client = providers.client(account.provider)
    expired = account.token_expires_at is not None and account.token_expires_at <= utcnow()
    if not expired:
        status = _probe(client, config, crypto.decrypt(account.access_token_enc))
        if status == "ok":
            return "ok", None
        if status == "unknown":
            return "unknown", None
    if not account.refresh_token_enc:
        return "needs_attention", "expired" if expired else "revoked"
    try:
        token = client.fetch_access_token(
            grant_type="refresh_token", refresh_token=crypto.decrypt(account.refresh_token_enc)
        )
    except Exception as error:
        log.info("refresh refused for %s: %s", account.id, error)
        return "needs_attention", "revoked"
    account.access_token_enc = crypto.encrypt(token["access_token"])
    if token.get("refresh_token"):
        account.refresh_token_enc = crypto.encrypt(token["refresh_token"])
    if token.get("expires_at"):
        account.token_expires_at = datetime.fromtimestamp(int(token["expires_at"]), UTC)
    return "ok", None


def _probe(client, config: providers.ProviderConfig, access_token: str) -> str:
    """Call the provider's profile endpoint with the token: ok, rejected or unknown."""
    url = config.profile_url
    if config.oidc:
        url = client.load_server_metadata().get("userinfo_endpoint") or url
    if not url:
        return "unknown"
    try:
        response = client.get(url, token={"access_token": access_token, "token_type": "Bearer"})
    except Exception:
        return "unknown"
    if response.status_code in (401, 403):
        return "rejected"
    if response.status_code == 400 and _oauth_error(response) in REJECTIONS:
        return "rejected"  # some providers answer a revoked token with 400 + an OAuth error
    return "ok" if response.ok else "unknown"


REJECTIONS = {"invalid_token", "access_denied", "invalid_grant"}


def _oauth_error(response) -> str | None:
    try:
        return response.json().get("error")
    except (ValueError, AttributeError):
        return None


def reencrypt_tokens() -> int:
    """Re-encrypt every kept token under the newest key (after putting a new key first)."""
    count = 0
    rows = db.session.scalars(
        db.select(SocialAccount).where(SocialAccount.access_token_enc.is_not(None))
    )
    for account in rows:
        account.access_token_enc = crypto.reencrypt(account.access_token_enc)
        if account.refresh_token_enc:
            account.refresh_token_enc = crypto.reencrypt(account.refresh_token_enc)
        count += 1
    db.session.commit()
    return count
