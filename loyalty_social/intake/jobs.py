"""RQ entry points of intake: thin, they call the service."""

from flask import current_app

from ..queue import job
from . import service


@job("intake.sweep", queue="events", timeout=300, every="SWEEP_INTERVAL_SECONDS")
def sweep() -> int:
    """Re-enqueue pending events whose job is gone (a crash, a Redis outage)."""
    config = current_app.config
    return service.sweep(config["SWEEP_AFTER_SECONDS"], config["PROCESS_BATCH_SIZE"])
