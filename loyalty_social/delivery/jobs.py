"""RQ entry points of delivery: thin, they call the service."""

from ..queue import job
from . import service


# Killed when its lease ends: the sweeper hands the rows to another job only after that, so two
# jobs never send the same row at once.
@job("delivery.deliver", queue="delivery", timeout="DELIVERY_LEASE_SECONDS")
def deliver(delivery_ids: list[str]) -> None:
    """One delivery pass over a batch of outbox rows (idempotent: claims only what is due)."""
    service.deliver(delivery_ids)


@job("delivery.sweep", queue="events", timeout=300, every="SWEEP_INTERVAL_SECONDS")
def sweep() -> None:
    """Hand rows that came due (retries, leases of dead workers, lost jobs) to delivery jobs.

    On the events queue: it only enqueues, and must not wait behind slow deliveries."""
    service.sweep()
