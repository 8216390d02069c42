"""The OAuth 2.0 authorization code flow, to RFC 9700: one module, every provider.

- PKCE S256 on every request; the verifier never leaves the server (encrypted in oauth_flow).
- ``state`` is bound to the browser session (the session holds the flow id and the state;
  the database holds only its hash) *and* is one-time in the database, so a replayed
  authorization response is refused whichever web process it reaches.
- OIDC: ``nonce`` stored with the flow; Authlib validates the ID token's signature (the
  provider's JWKS), issuer (discovery document), audience (our client id), expiry and nonce.
- Exact redirect URIs, one per provider (also a mix-up defence), stored with the flow and
  sent again, byte for byte, in the token request; an ``iss`` response parameter (RFC 9207)
  must name the provider's issuer.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app

from .. import crypto
from ..extensions import db
from ..ids import new_id
from ..timeutil import utcnow
from . import providers
from .models import OAuthFlow

PURPOSES = ("link", "signin", "console")  # console: a console user signing in (SSO)


class FlowError(ValueError):
    """The authorization response is refused; the message is safe to show."""


@dataclass(frozen=True)
class Started:
    flow_id: str
    state: str
    url: str


@dataclass(frozen=True)
class Finished:
    flow: OAuthFlow
    config: providers.ProviderConfig
    profile: providers.Profile
    token: dict


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def start(provider: str, purpose: str, member_id: str | None, redirect_uri: str) -> Started:
    """Create the authorization request; flushes the flow row (the caller commits)."""
    if purpose not in PURPOSES:
        raise ValueError(purpose)
    try:
        client = providers.client(provider)
    except KeyError:
        raise FlowError("This provider is not available.") from None
    try:
        request = client.create_authorization_url(redirect_uri)
    except Exception as error:  # discovery unreachable or malformed
        raise FlowError("The provider cannot be reached; try again later.") from error
    if not request.get("code_verifier"):
        raise FlowError("PKCE is not configured for this provider.")
    now = utcnow()
    flow = OAuthFlow(
        id=new_id("flw"),
        provider=provider,
        purpose=purpose,
        member_id=member_id,
        state_hash=_hash(request["state"]),
        nonce=request.get("nonce"),
        code_verifier_enc=crypto.encrypt(request["code_verifier"]),
        redirect_uri=redirect_uri,
        created_at=now,
        expires_at=now + timedelta(seconds=current_app.config["OAUTH_FLOW_SECONDS"]),
    )
    db.session.add(flow)
    db.session.flush()
    return Started(flow.id, request["state"], request["url"])


def consume(provider: str, pending: dict | None, args: dict) -> OAuthFlow:
    """Match the response to the session's pending flow and use the flow up (flushes).

    Refused: no pending flow in this session, a state that is not this session's, another
    provider's flow, an expired flow, or one already used (a replayed response).
    """
    state = args.get("state") or ""
    if args.get("error") and not state:  # some providers drop state on errors
        raise FlowError("The sign-in was cancelled or refused at the provider.")
    if not pending or not pending.get("id") or not pending.get("state"):
        raise FlowError("This sign-in was not started in this browser session.")
    if not state or not hmac.compare_digest(state, pending["state"]):
        raise FlowError("This sign-in response does not belong to this browser session.")
    flow = db.session.get(OAuthFlow, pending["id"])
    if (
        flow is None
        or flow.provider != provider
        or not hmac.compare_digest(flow.state_hash, _hash(state))
    ):
        raise FlowError("This sign-in response does not belong to this browser session.")
    now = utcnow()
    used = db.session.execute(
        db.update(OAuthFlow)
        .where(OAuthFlow.id == flow.id, OAuthFlow.consumed_at.is_(None))
        .values(consumed_at=now)
    )
    if used.rowcount != 1:
        raise FlowError("This sign-in response was already used.")
    if flow.expires_at < now:
        raise FlowError("This sign-in took too long; please start again.")
    return flow


def exchange(flow: OAuthFlow, args: dict) -> Finished:
    """Redeem the code with the flow's PKCE verifier, validate the ID token, map the profile."""
    config = providers.get(flow.provider)
    if config is None:
        raise FlowError("This provider is not available.")
    if args.get("error"):
        raise FlowError("The sign-in was cancelled or refused at the provider.")
    code = args.get("code")
    if not code:
        raise FlowError("The provider's response carries no authorization code.")
    client = providers.client(flow.provider)
    metadata = client.load_server_metadata()
    if args.get("iss") and metadata.get("issuer") and args["iss"] != metadata["issuer"]:
        raise FlowError("The response comes from another provider than the one asked.")
    try:
        token = client.fetch_access_token(
            redirect_uri=flow.redirect_uri,
            code=code,
            code_verifier=crypto.decrypt(flow.code_verifier_enc),
        )
    except Exception as error:
        current_app.logger.warning("token request refused by %s: %s", flow.provider, error)
        raise FlowError("The provider refused to complete the sign-in.") from error
    data = _profile_data(client, config, flow, token, metadata)
    try:
        profile = providers.map_profile(config, data)
    except (KeyError, TypeError, ValueError) as error:
        raise FlowError("The provider's profile is incomplete.") from error
    return Finished(flow, config, profile, dict(token))


def _profile_data(client, config, flow: OAuthFlow, token: dict, metadata: dict) -> dict:
    if config.oidc:
        if "id_token" not in token or not flow.nonce:
            raise FlowError("The provider returned no ID token.")
        try:
            claims = dict(client.parse_id_token(token, nonce=flow.nonce))
        except Exception as error:
            current_app.logger.warning("ID token from %s refused: %s", flow.provider, error)
            raise FlowError("The provider's ID token did not validate.") from error
        if metadata.get("userinfo_endpoint"):
            try:
                info = dict(client.userinfo(token=token))
            except Exception:
                info = {}
            if info.get("sub") == claims.get("sub"):  # OIDC Core 5.3.2
                claims = {**info, **claims}
        return claims
    if not config.profile_url:
        raise FlowError("The provider has no profile address configured.")
    try:
        response = client.get(config.profile_url, token=token)
        response.raise_for_status()
        return response.json()
    except Exception as error:
        raise FlowError("The provider's profile could not be read.") from error


def purge_expired() -> int:
    result = db.session.execute(
        db.delete(OAuthFlow).where(OAuthFlow.expires_at < utcnow() - timedelta(hours=1))
    )
    return result.rowcount or 0
