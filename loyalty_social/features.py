"""The features, in one list: each package exposes ``init_app(app)`` (its blueprints), and
optionally ``models`` (tables) and ``cli.COMMANDS`` (operator commands)."""

import importlib

FEATURES = ("access", "identity", "consent", "intake", "rules", "rewards", "delivery", "portal")


def modules():
    return [importlib.import_module(f"loyalty_social.{name}") for name in FEATURES]


def load_models() -> None:
    """Import every feature's models, so metadata (migrations, tests) sees all tables."""
    for name in FEATURES:
        try:
            importlib.import_module(f"loyalty_social.{name}.models")
        except ModuleNotFoundError as error:
            if error.name != f"loyalty_social.{name}.models":
                raise


def commands():
    found = []
    for name in FEATURES:
        try:
            module = importlib.import_module(f"loyalty_social.{name}.cli")
        except ModuleNotFoundError as error:
            if error.name != f"loyalty_social.{name}.cli":
                raise
            continue
        found.extend(module.COMMANDS)
    return found
