"""RQ entry points of intake: thin, they call the service."""

from flask import current_app

from ..queue import job
from . import retention, service


@job("intake.sweep", queue="events", timeout=300, every="SWEEP_INTERVAL_SECONDS")
def sweep() -> int:
    """Re-enqueue pending events whose job is gone (a crash, a Redis outage)."""
    config = current_app.config
    return service.sweep(config["SWEEP_AFTER_SECONDS"], config["PROCESS_BATCH_SIZE"])


@job("intake.prune_payloads", queue="batch", timeout=3600, every="RETENTION_INTERVAL_SECONDS")
def prune_payloads() -> int:
    """Retention: prune raw payloads older than EVENT_PAYLOAD_RETENTION_DAYS, in batches."""
    config = current_app.config
    return retention.prune_payloads(
        config["EVENT_PAYLOAD_RETENTION_DAYS"], config["RETENTION_BATCH_SIZE"]
    )
