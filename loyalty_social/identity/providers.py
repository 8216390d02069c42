"""Social login providers: configured in config/ and the environment, never in code.

Authlib does the protocol (discovery, authorization URL with PKCE S256, token exchange, ID
token validation); this module only says, per provider *kind*, how a profile maps to ours.
Adding a kind is adding one function to ``PROFILE_MAPPERS`` (a registry, as CTFd does).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app

from ..settings import enabled_providers


@dataclass(frozen=True)
class Profile:
    subject: str
    handle: str | None
    display_name: str | None
    email: str | None
    email_verified: bool
    avatar_url: str | None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ProviderConfig:
    name: str
    kind: str
    label: str
    scope: str
    store_tokens: bool
    oidc: bool
    profile_url: str | None


def _verified(value) -> bool:
    # Apple sends "true"/"false" strings; everyone else booleans.
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _str(value) -> str | None:
    return str(value) if value not in (None, "") else None


def _oidc(claims: dict) -> Profile:
    return Profile(
        subject=str(claims["sub"]),
        handle=_str(claims.get("preferred_username") or claims.get("nickname")),
        display_name=_str(claims.get("name")),
        email=_str(claims.get("email")),
        email_verified=_verified(claims.get("email_verified")),
        avatar_url=_str(claims.get("picture")),
    )


def _github(data: dict) -> Profile:
    # /user's email is the public one, not a verified address: never claim it verified.
    return Profile(
        subject=str(data["id"]),
        handle=_str(data.get("login")),
        display_name=_str(data.get("name")),
        email=_str(data.get("email")),
        email_verified=False,
        avatar_url=_str(data.get("avatar_url")),
    )


def _facebook(data: dict) -> Profile:
    picture = ((data.get("picture") or {}).get("data") or {}).get("url")
    return Profile(
        subject=str(data["id"]),
        handle=None,
        display_name=_str(data.get("name")),
        email=_str(data.get("email")),
        email_verified=False,
        avatar_url=_str(picture),
    )


def _x(data: dict) -> Profile:
    user = data.get("data") or data
    return Profile(
        subject=str(user["id"]),
        handle=_str(user.get("username")),
        display_name=_str(user.get("name")),
        email=None,
        email_verified=False,
        avatar_url=_str(user.get("profile_image_url")),
    )


PROFILE_MAPPERS: dict[str, Callable[[dict], Profile]] = {
    "oidc": _oidc,
    "google": _oidc,
    "apple": _oidc,
    "github": _github,
    "facebook": _facebook,
    "x": _x,
}
OIDC_KINDS = {"oidc", "google", "apple"}


def configs(app: Flask | None = None) -> dict[str, ProviderConfig]:
    """The providers on offer, by name, in configured order."""
    app = app or current_app
    providers = app.config["OAUTH_PROVIDERS"]
    result = {}
    for name in enabled_providers(providers):
        options = providers[name]
        kind = options.get("kind", "oidc")
        if kind not in PROFILE_MAPPERS:
            raise RuntimeError(
                f"OAUTH_PROVIDERS.{name}.kind {kind!r} is not one of {', '.join(PROFILE_MAPPERS)}"
            )
        result[name] = ProviderConfig(
            name=name,
            kind=kind,
            label=options.get("label", name.title()),
            scope=options.get("scope", "openid" if kind in OIDC_KINDS else ""),
            store_tokens=bool(options.get("store_tokens", False)),
            oidc=kind in OIDC_KINDS,
            profile_url=options.get("profile_url"),
        )
    return result


def get(name: str) -> ProviderConfig | None:
    return configs().get(name)


def init_app(app: Flask) -> None:
    """Register every enabled provider with one Authlib registry for this app."""
    registry = OAuth()
    registry.init_app(app)
    timeout = app.config["OAUTH_HTTP_TIMEOUT_SECONDS"]
    for name, config in configs(app).items():
        options = app.config["OAUTH_PROVIDERS"][name]
        registry.register(
            name,
            client_id=options["client_id"],
            client_secret=options.get("client_secret"),
            server_metadata_url=options.get("server_metadata_url"),
            authorize_url=options.get("authorize_url"),
            access_token_url=options.get("access_token_url"),
            client_kwargs={
                "scope": config.scope,
                "code_challenge_method": "S256",
                "token_endpoint_auth_method": options.get(
                    "token_endpoint_auth_method", "client_secret_basic"
                ),
                "default_timeout": timeout,
            },
        )
    app.extensions["loyalty_social.oauth"] = registry


def client(name: str):
    """The Authlib client of a provider (raises KeyError when it is not on offer)."""
    if name not in configs():
        raise KeyError(name)
    return current_app.extensions["loyalty_social.oauth"].create_client(name)


def map_profile(config: ProviderConfig, data: dict) -> Profile:
    return PROFILE_MAPPERS[config.kind](data)
