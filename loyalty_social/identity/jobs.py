"""RQ entry points of identity: thin, ids in, the service does the work."""

from __future__ import annotations

from ..extensions import db
from ..queue import job
from . import assertions, flows, health


@job(
    "identity.check_account_health",
    queue="batch",
    timeout=1800,
    every="ACCOUNT_HEALTH_INTERVAL_SECONDS",
)
def check_account_health(limit: int = 500) -> dict[str, str]:
    """Check the links that are due; also forget expired one-time records."""
    results = health.check_accounts(health.due_accounts(limit))
    assertions.purge_used_assertions()
    flows.purge_expired()
    db.session.commit()
    return results
