"""Typed settings: config/default.toml, then config/<env>.toml, then secrets, then the environment.

One place decides every setting's value and type, so the rest of the code reads
``current_app.config["NAME"]`` without parsing or guessing.
"""

from __future__ import annotations

import json
import os
import secrets
import tomllib
from dataclasses import MISSING, dataclass, fields
from pathlib import Path

ENV_PREFIX = "LOYALTY_SOCIAL_"
ENVIRONMENTS = ("development", "testing", "production")
CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
# Conventional names operators already set; read when the prefixed variable is absent.
UNPREFIXED = ("DATABASE_URL", "REDIS_URL")
SECRET_NAMES = (
    "SECRET_KEY",
    "ENCRYPTION_KEYS",
    "BACKEND_TOKEN",
    "BACKEND_HMAC_SECRET",
    "PORTAL_SHARED_SECRET",
    "ERASURE_KEY",
)


class SettingsError(RuntimeError):
    """The configuration cannot run the service; the message names what to fix."""


@dataclass(frozen=True)
class Settings:
    ENV: str
    DATABASE_URL: str
    REDIS_URL: str
    QUEUE_NAME: str
    LOG_FORMAT: str
    LOG_LEVEL: str
    BIND: str
    WEB_WORKERS: int
    WEB_THREADS: int
    WEBHOOK_MAX_BODY_BYTES: int
    WEBHOOK_TOLERANCE_SECONDS: int
    WEBHOOK_RATE_LIMIT: float
    WEBHOOK_RATE_BURST: int
    SOURCE_CACHE_SECONDS: float
    INTAKE_GROUP_MAX: int
    DISPATCH_LINGER_SECONDS: float
    PROCESS_BATCH_SIZE: int
    PROCESS_LOCK_TIMEOUT_SECONDS: float
    RULE_CACHE_SECONDS: float
    SWEEP_AFTER_SECONDS: float
    SWEEP_INTERVAL_SECONDS: float
    ALLOW_PRIVATE_TARGETS: bool
    BACKEND_ADAPTER: str
    BACKEND_URL: str
    BACKEND_CREDIT_PATH: str
    BACKEND_DEBIT_PATH: str
    BACKEND_OFFER_GRANT_PATH: str
    BACKEND_OFFER_REDEEM_PATH: str
    BACKEND_CONNECT_TIMEOUT_SECONDS: float
    BACKEND_READ_TIMEOUT_SECONDS: float
    DELIVERY_BATCH_SIZE: int
    DELIVERY_CONCURRENCY: int
    DELIVERY_LEASE_SECONDS: float
    DELIVERY_RETRY_HORIZON_SECONDS: float
    DELIVERY_BACKOFF_BASE_SECONDS: float
    DELIVERY_BACKOFF_CAP_SECONDS: float
    SUBSCRIPTION_CACHE_SECONDS: float
    PUBLIC_URL: str
    PORTAL_ISSUER: str
    PORTAL_AUDIENCE: str
    PORTAL_JWKS: str
    PORTAL_ASSERTION_MAX_AGE_SECONDS: int
    PORTAL_RETURN_URLS: str
    PORTAL_LOGIN_URL: str
    PORTAL_SIGNUP_URL: str
    PORTAL_SESSION_SECONDS: int
    LOGIN_ASSERTION_SECONDS: int
    OAUTH_FLOW_SECONDS: int
    OAUTH_HTTP_TIMEOUT_SECONDS: float
    ACCOUNT_HEALTH_EVERY_SECONDS: int
    ACCOUNT_HEALTH_INTERVAL_SECONDS: float
    CARE_PRIORITY_TIERS: str
    OAUTH_PROVIDERS: dict
    DEMO_OIDC_URL: str
    # Rules engine and ledger (config/default.toml documents each).
    PROGRAM_TIMEZONE: str
    MEMBER_DAILY_POINTS_CEILING: int
    VELOCITY_MAX_EVENTS_PER_DAY: int
    MAX_EVENT_AGE_DAYS: int
    NEGATIVE_BALANCE_POLICY: str
    # Advocate score and levels (config/default.toml documents each).
    ADVOCATE_WINDOW_DAYS: int
    ADVOCATE_WEIGHTS: dict
    ADVOCATE_LEVELS: dict
    ADVOCATE_RECOMPUTE_INTERVAL_SECONDS: float
    # Consent and privacy (config/default.toml documents each).
    CONSENT_PURPOSES: dict
    PORTAL_LINK_REAUTH_SECONDS: int
    # Advocates: share links, clicks, referrals (config/default.toml documents each).
    SHARE_LINK_TARGETS: str
    SHARE_VERIFY_CLICKS: int
    SHARE_LINK_CACHE_SECONDS: float
    SHARE_CLICK_BATCH_MAX: int
    SHARE_CLICK_LINGER_SECONDS: float
    SHARE_TRUSTED_PROXIES: int
    REFERRAL_WINDOW_DAYS: int
    REFERRAL_VISITOR_MAX: int
    REFERRAL_BURST_MAX: int
    REFERRAL_BURST_SECONDS: int
    # API keys and the marketer console (config/default.toml documents each).
    KEY_LAST_USED_RESOLUTION: float
    CONSOLE_IDLE_SECONDS: int
    CONSOLE_SESSION_MAX_SECONDS: int
    CONSOLE_LOCKOUT_ATTEMPTS: int
    CONSOLE_LOCKOUT_SECONDS: int
    CONSOLE_IP_LOCKOUT_ATTEMPTS: int
    CONSOLE_SSO_PROVIDERS: str
    CONSOLE_PASSWORD_TIME_COST: int
    CONSOLE_PASSWORD_MEMORY_KIB: int
    EVENT_PAYLOAD_RETENTION_DAYS: int
    RETENTION_INTERVAL_SECONDS: float
    RETENTION_BATCH_SIZE: int
    # Secrets: from the environment or the secrets file only, never config/*.toml.
    SECRET_KEY: str = ""
    ENCRYPTION_KEYS: str = ""
    PORTAL_SHARED_SECRET: str = ""
    BACKEND_TOKEN: str = ""
    BACKEND_HMAC_SECRET: str = ""
    ERASURE_KEY: str = ""

    def as_flask_config(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _coerce(name: str, raw, kind):
    if kind in ("dict", dict):
        if isinstance(raw, dict):
            return raw
        try:
            value = json.loads(raw)
        except (TypeError, ValueError):
            raise SettingsError(f"{name} must be a TOML table or a JSON object") from None
        if not isinstance(value, dict):
            raise SettingsError(f"{name} must be a TOML table or a JSON object")
        return value
    if kind in ("bool", bool):
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off", ""):
            return False
        raise SettingsError(f"{name} must be true or false, got {raw!r}")
    if kind in ("int", int):
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if kind in ("float", float):
        try:
            return float(raw)
        except (TypeError, ValueError):
            raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    return str(raw)


def _read_toml(path: Path) -> dict:
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        return tomllib.load(handle)


def _env_value(name: str, environ) -> str | None:
    if ENV_PREFIX + name in environ:
        return environ[ENV_PREFIX + name]
    if name in UNPREFIXED and name in environ:
        return environ[name]
    return None


def instance_folder(environ=None) -> Path | None:
    """LOYALTY_SOCIAL_INSTANCE_PATH: where development keeps its SQLite file, generated secrets
    and demo keys (default: Flask's instance/ folder next to the package)."""
    environ = os.environ if environ is None else environ
    value = environ.get(ENV_PREFIX + "INSTANCE_PATH")
    return Path(value).resolve() if value else None


def _dev_secrets(instance_path: Path) -> dict:
    """Generate development secrets once, outside the repository, so a newcomer needs none.

    A secret missing from an older file is added, never replaced (tokens encrypted with the
    existing keys stay readable)."""
    from cryptography.fernet import Fernet

    path = instance_path / "dev-secrets.toml"
    existing = _read_toml(path)
    generators = {
        "SECRET_KEY": lambda: secrets.token_urlsafe(32),
        "ENCRYPTION_KEYS": lambda: Fernet.generate_key().decode(),
        # Signs the demo's member assertions (the loyalty portal's side of the hand-off).
        "PORTAL_SHARED_SECRET": lambda: secrets.token_urlsafe(32),
    }
    missing = [name for name in generators if name not in existing]
    if missing:
        instance_path.mkdir(parents=True, exist_ok=True)
        with path.open("a") as handle:
            for name in missing:
                handle.write(f'{name} = "{generators[name]()}"\n')
        path.chmod(0o600)
        existing = _read_toml(path)
    return existing


def load_settings(
    overrides: dict | None = None,
    environ=None,
    instance_path: Path | None = None,
) -> Settings:
    """Build the settings for one app; ``overrides`` (tests) win over everything."""
    environ = os.environ if environ is None else environ
    overrides = dict(overrides or {})
    env = overrides.get("ENV") or environ.get(ENV_PREFIX + "ENV") or "development"
    if env not in ENVIRONMENTS:
        raise SettingsError(f"LOYALTY_SOCIAL_ENV must be one of {', '.join(ENVIRONMENTS)}")

    values: dict = {}
    values.update(_read_toml(CONFIG_DIR / "default.toml"))
    values.update(_read_toml(CONFIG_DIR / f"{env}.toml"))
    secrets_file = environ.get(ENV_PREFIX + "SECRETS_FILE")
    from_secrets_file = _read_toml(Path(secrets_file)) if secrets_file else {}
    values.update({k: v for k, v in from_secrets_file.items() if k in SECRET_NAMES})
    for f in fields(Settings):
        from_env = _env_value(f.name, environ)
        if from_env is not None:
            values[f.name] = from_env
    values.update(overrides)
    values["ENV"] = env

    if env == "development" and instance_path is not None:
        generated = _dev_secrets(instance_path)
        for name in SECRET_NAMES:
            values[name] = values.get(name) or generated.get(name, "")

    if instance_path is not None:
        values["DATABASE_URL"] = str(values.get("DATABASE_URL", "")).replace(
            "{instance}", str(instance_path)
        )
    values["DATABASE_URL"] = normalise_database_url(str(values.get("DATABASE_URL", "")))

    # Fields with a default are optional secrets (an unused backend needs no token).
    missing_keys = [
        f.name for f in fields(Settings) if f.name not in values and f.default is MISSING
    ]
    if missing_keys:
        raise SettingsError(f"settings missing from config/default.toml: {', '.join(missing_keys)}")
    typed = {
        f.name: _coerce(f.name, values.get(f.name, f.default), f.type) for f in fields(Settings)
    }
    typed["OAUTH_PROVIDERS"] = _provider_secrets(
        typed["OAUTH_PROVIDERS"], environ, from_secrets_file, overrides
    )
    if typed["DEMO_OIDC_URL"] and env != "production":
        typed["OAUTH_PROVIDERS"] = {**typed["OAUTH_PROVIDERS"], **demo_provider(typed)}
    settings = Settings(**typed)
    _check_rules_settings(settings)
    _check_consent_purposes(settings.CONSENT_PURPOSES)
    if env == "production":
        check_production(settings)
    return settings


def _provider_secrets(providers: dict, environ, secrets_file: dict, overrides: dict) -> dict:
    """Add each provider's client id and secret from LOYALTY_SOCIAL_OAUTH_<NAME>_CLIENT_ID /
    _CLIENT_SECRET (environment, secrets file or test overrides), so no secret sits in config/."""
    merged = {}
    for name, options in providers.items():
        if not isinstance(options, dict):
            raise SettingsError(f"OAUTH_PROVIDERS.{name} must be a table")
        options = dict(options)
        for field in ("client_id", "client_secret"):
            key = f"OAUTH_{name.upper()}_{field.upper()}"
            value = overrides.get(key) or _env_value(key, environ) or secrets_file.get(key)
            if value:
                options[field] = str(value)
        merged[name] = options
    return merged


DEMO_PROVIDER = "demo"


def demo_provider(typed: dict) -> dict:
    """The "Demo ID" provider `loyalty-social dev` starts on loopback (oidc-provider-mock):
    any client id is accepted there, so this one is no secret. Never in production."""
    issuer = typed["DEMO_OIDC_URL"].rstrip("/")
    return {
        DEMO_PROVIDER: {
            "kind": "oidc",
            "label": "Demo ID",
            "server_metadata_url": f"{issuer}/.well-known/openid-configuration",
            "scope": "openid profile email",
            "store_tokens": False,
            "client_id": "loyalty-social-demo",
            "client_secret": "demo-provider-accepts-any-secret",
        }
    }


def enabled_providers(providers: dict) -> list[str]:
    """Providers that are switched on and have a client id."""
    return [
        name
        for name, options in providers.items()
        if options.get("enabled", True) and options.get("client_id")
    ]


def normalise_database_url(url: str) -> str:
    """Accept the ``postgres://`` and ``postgresql://`` spellings; use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _check_rules_settings(settings: Settings) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if settings.NEGATIVE_BALANCE_POLICY not in ("allow", "floor"):
        raise SettingsError("NEGATIVE_BALANCE_POLICY must be 'allow' or 'floor'")
    try:
        ZoneInfo(settings.PROGRAM_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"PROGRAM_TIMEZONE {settings.PROGRAM_TIMEZONE!r} is not an IANA time zone"
        ) from None
    if (
        min(
            settings.MEMBER_DAILY_POINTS_CEILING,
            settings.VELOCITY_MAX_EVENTS_PER_DAY,
            settings.MAX_EVENT_AGE_DAYS,
            settings.EVENT_PAYLOAD_RETENTION_DAYS,
        )
        < 0
    ):
        raise SettingsError(
            "MEMBER_DAILY_POINTS_CEILING, VELOCITY_MAX_EVENTS_PER_DAY, MAX_EVENT_AGE_DAYS and "
            "EVENT_PAYLOAD_RETENTION_DAYS must be 0 or more"
        )


def _check_consent_purposes(purposes: dict) -> None:
    """Every purpose needs words the member can read and a policy text to version."""
    if not purposes:
        raise SettingsError("CONSENT_PURPOSES must name at least one purpose")
    for name, options in purposes.items():
        if not isinstance(options, dict):
            raise SettingsError(f"CONSENT_PURPOSES.{name} must be a table")
        for key in ("description", "policy"):
            if not isinstance(options.get(key), str) or not options[key].strip():
                raise SettingsError(f"CONSENT_PURPOSES.{name}.{key} must be a non-empty string")
        if not isinstance(options.get("requires_fresh_consent", False), bool):
            raise SettingsError(f"CONSENT_PURPOSES.{name}.requires_fresh_consent must be a boolean")


def check_production(settings: Settings) -> None:
    """Refuse to start production with anything an attacker or an outage could exploit."""
    problems = []
    if len(settings.SECRET_KEY) < 32:
        problems.append("LOYALTY_SOCIAL_SECRET_KEY (at least 32 characters)")
    if not settings.ENCRYPTION_KEYS:
        problems.append(
            "LOYALTY_SOCIAL_ENCRYPTION_KEYS (Fernet keys protecting source secrets and tokens)"
        )
    if not settings.DATABASE_URL or settings.DATABASE_URL.startswith("sqlite"):
        problems.append("DATABASE_URL (a PostgreSQL URL)")
    if enabled_providers(settings.OAUTH_PROVIDERS) and not settings.PUBLIC_URL.startswith(
        "https://"
    ):
        problems.append("LOYALTY_SOCIAL_PUBLIC_URL (https: OAuth redirect URIs are built from it)")
    if settings.DEMO_OIDC_URL:
        problems.append("no LOYALTY_SOCIAL_DEMO_OIDC_URL (the demo provider is development only)")
    if settings.BACKEND_ADAPTER == "http":
        if not settings.BACKEND_URL.startswith("https://"):
            problems.append("LOYALTY_SOCIAL_BACKEND_URL (an https:// URL for the http adapter)")
        if not (settings.BACKEND_TOKEN or settings.BACKEND_HMAC_SECRET):
            problems.append(
                "LOYALTY_SOCIAL_BACKEND_TOKEN or LOYALTY_SOCIAL_BACKEND_HMAC_SECRET (backend auth)"
            )
    if problems:
        raise SettingsError("production needs: " + "; ".join(problems))
