"""One ``enqueue()`` for every feature: RQ when REDIS_URL is set, in-process otherwise.

Jobs are module-level functions wrapped with ``@job``; they take ids and JSON-safe values,
never ORM objects, and are idempotent, so RQ's at-least-once execution gives exactly-once
effects. Each job runs in a fresh app context, hence a fresh database session.
"""

from __future__ import annotations

import functools
import gc
import logging
from collections.abc import Callable

from flask import Flask, current_app, has_app_context

log = logging.getLogger(__name__)

# Retries for jobs that fail in a worker: quick first, then backing off. The sweeper covers
# whatever is still pending after these.
RETRY_INTERVALS = [5, 30, 120]
_worker_app: Flask | None = None


def set_worker_app(app: Flask) -> None:
    """The RQ worker's long-lived app; jobs push a fresh context of it each run.

    Everything built so far (modules, app, mappers) lives as long as the worker: frozen out of
    the garbage collector, which otherwise rescans it on every full collection while a batch
    allocates hundreds of thousands of objects (measured: ~10 % of evaluation time).
    """
    global _worker_app
    _worker_app = app
    gc.collect()
    gc.freeze()


def _app() -> Flask:
    if has_app_context():
        return current_app._get_current_object()
    if _worker_app is None:
        from . import create_app

        set_worker_app(create_app())
    return _worker_app


def job(func: Callable) -> Callable:
    """Mark an RQ entry point: runs inside its own app context and database session."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with _app().app_context():
            return func(*args, **kwargs)

    return wrapper


def redis_connection(app: Flask | None = None):
    """The app's Redis client, or None on the embedded default."""
    app = app or current_app
    url = app.config["REDIS_URL"]
    if not url:
        return None
    client = app.extensions.get("loyalty_social.redis")
    if client is None:
        import redis

        client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
        app.extensions["loyalty_social.redis"] = client
    return client


def rq_queue(app: Flask | None = None):
    from rq import Queue

    app = app or current_app
    return Queue(app.config["QUEUE_NAME"], connection=redis_connection(app))


def enqueue(func: Callable, *args, job_id: str | None = None) -> None:
    """Run ``func(*args)`` as a background job.

    With Redis: put it on the RQ queue (raises if Redis is unreachable; callers that must not
    fail leave their work pending for the sweeper). Without: run it now, in-process, in its
    own app context; a failure is logged, and the work stays pending for the sweeper.
    """
    app = _app()
    if app.config["REDIS_URL"]:
        from rq import Retry

        rq_queue(app).enqueue(
            func,
            *args,
            job_id=job_id,
            retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS),
            result_ttl=600,
            failure_ttl=7 * 24 * 3600,
        )
        return
    try:
        func(*args)
    except Exception:
        log.exception("in-process job %s failed", getattr(func, "__qualname__", func))


def queue_depth(app: Flask | None = None) -> int | None:
    """Jobs waiting on the queue, or None when jobs run in-process."""
    app = app or current_app
    if not app.config["REDIS_URL"]:
        return None
    return rq_queue(app).count
