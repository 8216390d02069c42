"""Typed settings: config/default.toml, then config/<env>.toml, then secrets, then the environment.

One place decides every setting's value and type, so the rest of the code reads
``current_app.config["NAME"]`` without parsing or guessing.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

ENV_PREFIX = "LOYALTY_SOCIAL_"
ENVIRONMENTS = ("development", "testing", "production")
CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
# Conventional names operators already set; read when the prefixed variable is absent.
UNPREFIXED = ("DATABASE_URL", "REDIS_URL")
SECRET_NAMES = ("SECRET_KEY", "ENCRYPTION_KEYS")


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
    PROCESS_BATCH_SIZE: int
    RULE_CACHE_SECONDS: float
    SWEEP_AFTER_SECONDS: float
    SWEEP_INTERVAL_SECONDS: float
    SECRET_KEY: str = ""
    ENCRYPTION_KEYS: str = ""

    def as_flask_config(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _coerce(name: str, raw, kind):
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


def _dev_secrets(instance_path: Path) -> dict:
    """Generate development secrets once, outside the repository, so a newcomer needs none."""
    from cryptography.fernet import Fernet

    path = instance_path / "dev-secrets.toml"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        path.write_text(
            f'SECRET_KEY = "{secrets.token_urlsafe(32)}"\n'
            f'ENCRYPTION_KEYS = "{Fernet.generate_key().decode()}"\n'
        )
        path.chmod(0o600)
    return _read_toml(path)


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
    if secrets_file:
        values.update(
            {k: v for k, v in _read_toml(Path(secrets_file)).items() if k in SECRET_NAMES}
        )
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

    missing_keys = [f.name for f in fields(Settings) if f.name not in values]
    if missing_keys:
        raise SettingsError(f"settings missing from config/default.toml: {', '.join(missing_keys)}")
    typed = {f.name: _coerce(f.name, values[f.name], f.type) for f in fields(Settings)}
    settings = Settings(**typed)
    if env == "production":
        check_production(settings)
    return settings


def normalise_database_url(url: str) -> str:
    """Accept the ``postgres://`` and ``postgresql://`` spellings; use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


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
    if problems:
        raise SettingsError("production needs: " + "; ".join(problems))
