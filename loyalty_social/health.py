"""Liveness and readiness for load balancers and orchestrators (no authentication, no detail
beyond which dependency is down).

Ready means "can take traffic": the database is the source of truth, so without it 503.
Redis only carries work: without it webhooks are still stored (and the sweeper enqueues them
when Redis is back), so the answer stays 200, "degraded", naming the reason.
"""

from flask import Blueprint, current_app
from sqlalchemy import text

from .errors import problem_response
from .extensions import db
from .queue import redis_connection

health_bp = Blueprint("health", __name__)


@health_bp.get("/healthz")
def healthz():
    return {"status": "ok"}


@health_bp.get("/readyz")
def readyz():
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as error:
        checks["database"] = f"unreachable: {type(error).__name__}"
    finally:
        db.session.rollback()
    if current_app.config["REDIS_URL"]:
        try:
            redis_connection().ping()
            checks["redis"] = "ok"
        except Exception as error:
            checks["redis"] = f"unreachable: {type(error).__name__}"
    if checks["database"] != "ok":
        return problem_response(
            "service-unavailable",
            f"database {checks['database']}",
            headers={"Retry-After": "5"},
            checks=checks,
        )
    degraded = [f"{name} {state}" for name, state in checks.items() if state != "ok"]
    if degraded:
        return {"status": "degraded", "reason": "; ".join(degraded), "checks": checks}
    return {"status": "ready", "checks": checks}
