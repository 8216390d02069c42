"""The advocate settings (config/default.toml documents them), checked when the app starts:
weights for every signal, whole numbers; levels with distinct whole thresholds, one at 0."""

from __future__ import annotations

from types import SimpleNamespace

from ..settings import SettingsError

ADVOCATE_SIGNALS = ("tracked_share", "click", "referral", "review", "milestone")


def check(settings) -> None:
    """Weights for every signal, whole numbers; levels with whole thresholds, one at 0."""
    if not 1 <= settings.ADVOCATE_WINDOW_DAYS <= 3660:
        raise SettingsError("ADVOCATE_WINDOW_DAYS must be between 1 and 3660")
    weights = settings.ADVOCATE_WEIGHTS
    if set(weights) != set(ADVOCATE_SIGNALS) or not all(
        type(w) is int and 0 <= w <= 1_000_000 for w in weights.values()
    ):
        raise SettingsError(
            "ADVOCATE_WEIGHTS must give a whole weight from 0 to 1000000 for each of "
            + ", ".join(ADVOCATE_SIGNALS)
        )
    levels = settings.ADVOCATE_LEVELS
    if (
        not levels
        or not all(type(t) is int and 0 <= t <= 2_000_000_000 for t in levels.values())
        or 0 not in levels.values()
        or len(set(levels.values())) != len(levels)
        or not all(isinstance(n, str) and 0 < len(n) <= 32 for n in levels)
    ):
        raise SettingsError(
            "ADVOCATE_LEVELS must map level names (at most 32 characters) to distinct whole "
            "thresholds, one of them 0"
        )


def check_config(config) -> None:
    check(SimpleNamespace(**{k: config[k] for k in config if k.startswith("ADVOCATE_")}))
