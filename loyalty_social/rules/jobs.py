"""RQ entry points of the rules engine: thin, they call the service."""

from ..queue import job
from . import backtest, processing


@job("rules.process_events", queue="events", timeout=300)
def process_events(event_ids: list[str]) -> None:
    processing.process_events(event_ids)


@job("rules.run_backtest", queue="batch", timeout=3600)
def run_backtest(backtest_id: str) -> None:
    """Idempotent enough: a re-run recomputes the same report from the same events."""
    backtest.run(backtest_id)
