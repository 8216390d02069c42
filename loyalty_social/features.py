"""The features, in one list: each package exposes ``init_app(app)`` (its blueprints) - or,
where lower layers import the package itself (``audit``), a ``web`` module does - and
optionally ``models`` (tables) and ``cli.COMMANDS`` (operator commands)."""

import importlib

FEATURES = (
    "audit",
    "access",
    "analytics",
    "privacy",
    "identity",
    "consent",
    "intake",
    "rules",
    "rewards",
    "delivery",
    "advocates",
    "timeline",
    "portal",
    "console",
)


def modules():
    """Each feature's ``init_app`` holder (its ``web`` module or its package), with its jobs
    registered in ``queue`` (imported for that)."""
    found = []
    for name in FEATURES:
        package = importlib.import_module(f"loyalty_social.{name}")
        found.append(_optional(f"loyalty_social.{name}.web") or package)
        _optional(f"loyalty_social.{name}.jobs")
    return found


def _optional(module_name: str):
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name != module_name:
            raise
        return None


def load_models() -> None:
    """Import every feature's models, so metadata (migrations, tests) sees all tables."""
    for name in FEATURES:
        _optional(f"loyalty_social.{name}.models")


def commands():
    found = []
    for name in FEATURES:
        module = _optional(f"loyalty_social.{name}.cli")
        if module is not None:
            found.extend(module.COMMANDS)
    return found
