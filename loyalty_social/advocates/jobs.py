"""RQ entry points of advocates: thin, the service does the work."""

from __future__ import annotations

from flask import current_app

from ..intake.committer import dispatch
from ..queue import job
from . import scoring


@job(
    "advocates.recompute",
    queue="batch",
    timeout=3600,
    every="ADVOCATE_RECOMPUTE_INTERVAL_SECONDS",
)
def recompute() -> dict[str, int]:
    """Every advocate score again from the window's sources (decay, clicks, drift)."""
    scored, recorded = scoring.recompute()
    if recorded:
        dispatch(recorded, current_app.config["PROCESS_BATCH_SIZE"])
    return {"scored": scored, "level_changes": len(recorded)}
