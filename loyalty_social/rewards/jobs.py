"""RQ entry points of rewards: thin, they call the service."""

from ..extensions import db
from ..queue import job
from . import targeting


@job("rewards.cancel_undelivered", queue="events", timeout=300)
def cancel_undelivered(member_ids: list[str]) -> None:
    """Take back targeted awards whose delivery was cancelled for want of consent."""
    targeting.cancel_undelivered(member_ids)
    db.session.commit()
