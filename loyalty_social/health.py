"""Liveness and readiness for load balancers and orchestrators (no authentication, no detail
beyond which dependency is down)."""

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
    failing = {name: state for name, state in checks.items() if state != "ok"}
    if failing:
        detail = "; ".join(f"{name} {state}" for name, state in failing.items())
        return problem_response(
            "service-unavailable", detail, headers={"Retry-After": "5"}, checks=checks
        )
    return {"status": "ready", "checks": checks}
