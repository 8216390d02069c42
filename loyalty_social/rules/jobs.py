"""RQ entry points of evaluation: thin, they call the service."""

from ..queue import job
from . import processing


@job
def process_events(event_ids: list[str]) -> None:
    processing.process_events(event_ids)
