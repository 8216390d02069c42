"""Background jobs by name: one ``enqueue(name, ...)`` for every feature.

A stage hands work to the next by *name* (``enqueue("rules.process_events", ids)``), never by
importing it: each feature's ``jobs.py`` registers its entry points with ``@job(name, ...)`` when
the app starts (``features.modules()``), so the import graph keeps pointing downwards.

With REDIS_URL set a job goes on its RQ queue (``events`` for processing, ``delivery`` for slow
partners, ``batch`` for backtests and other long work); RQ imports the registered function by
its dotted path, so a worker needs nothing but the package. Without Redis (the embedded
default) an ``events`` job runs now, on the caller's thread (intake's dispatcher, the
scheduler, a replay that shows its result), and ``delivery``/``batch`` jobs run on one
background thread per queue in this process, so a slow partner or a backtest never holds up
a request or the commit that asked for it. Jobs take ids and JSON-safe values, never ORM
objects, and are idempotent, so RQ's at-least-once execution gives exactly-once effects.

A job registered with ``every="SETTING"`` also runs periodically, once per that many seconds
for the whole deployment (``schedule.py``).
"""

from __future__ import annotations

import functools
import gc
import logging
import os
import queue as stdlib_queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import Flask, current_app, has_app_context

log = logging.getLogger(__name__)

# Queues in the order a default worker serves them: processing first, slow partners after.
QUEUES = ("events", "delivery", "batch")
# Retries for jobs that fail in a worker: quick first, then backing off. The sweeper covers
# whatever is still pending after these.
RETRY_INTERVALS = [5, 30, 120]
_worker_app: Flask | None = None


@dataclass(frozen=True)
class JobSpec:
    name: str
    path: str  # dotted path RQ imports in the worker
    func: Callable
    queue: str
    # Seconds RQ lets one run take before it kills it, or the setting that holds them (a job
    # whose claim on its rows is a lease must die before the lease ends).
    timeout: int | str
    retry: bool
    every: str | None = None  # the setting with its period in seconds, if it runs periodically


_JOBS: dict[str, JobSpec] = {}


def job_timeout(job_spec: JobSpec, app: Flask) -> int:
    if isinstance(job_spec.timeout, str):
        return max(1, int(app.config[job_spec.timeout]))
    return job_spec.timeout


def job(
    name: str,
    *,
    queue: str = "events",
    timeout: int | str = 300,
    retry: bool = True,
    every: str | None = None,
):
    """Register a module-level function as the job ``name``; it runs in its own app context.

    ``every``: the name of a setting holding seconds; the job then also runs on the schedule.
    """
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")

    def register(func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with _app().app_context():
                return func(*args, **kwargs)

        path = f"{func.__module__}.{func.__qualname__}"
        existing = _JOBS.get(name)
        if existing is not None and existing.path != path:
            raise ValueError(f"job {name!r} registered twice: {existing.path} and {path}")
        _JOBS[name] = JobSpec(name, path, wrapper, queue, timeout, retry, every)
        return wrapper

    return register


def spec(name: str) -> JobSpec:
    try:
        return _JOBS[name]
    except KeyError:
        raise LookupError(f"no job named {name!r} (is its feature in features.FEATURES?)") from None


def registered() -> dict[str, JobSpec]:
    return dict(_JOBS)


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
        raise RuntimeError(
            "no app for this job: run jobs with `loyalty-social worker` (it sets the app)"
        )
    return _worker_app


def periodic() -> list[JobSpec]:
    """The jobs that run on the schedule."""
    return [spec for spec in _JOBS.values() if spec.every]


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


def queue_name(app: Flask, queue: str) -> str:
    return f"{app.config['QUEUE_NAME']}-{queue}"


def rq_queue(app: Flask | None = None, queue: str = "events"):
    from rq import Queue

    app = app or current_app
    return Queue(queue_name(app, queue), connection=redis_connection(app))


def rq_queues(app: Flask | None = None, names: tuple[str, ...] = QUEUES) -> list:
    """RQ queues in priority order, for a worker."""
    app = app or current_app
    return [rq_queue(app, name) for name in names]


def enqueue(name: str, *args, job_id: str | None = None) -> None:
    """Run the job ``name`` with ``args`` in the background.

    With Redis: put it on its RQ queue (raises if Redis is unreachable; callers that must not
    fail leave their work pending for the sweeper). Without: an ``events`` job runs now, on
    this thread; any other job on its queue's thread in this process. A failure in-process is
    logged, and the work stays pending for the sweeper.
    """
    job_spec = spec(name)
    app = _app()
    if app.config["REDIS_URL"]:
        from rq import Retry

        rq_queue(app, job_spec.queue).enqueue(
            job_spec.path,
            *args,
            job_id=job_id,
            description=name,
            job_timeout=job_timeout(job_spec, app),
            retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS)
            if job_spec.retry
            else None,
            result_ttl=600,
            failure_ttl=7 * 24 * 3600,
        )
        return
    if job_spec.queue == "events":
        _run_logged(job_spec, args)
    else:
        runner(app, job_spec.queue).submit(job_spec, args)


def _run_logged(job_spec: JobSpec, args: tuple) -> None:
    try:
        job_spec.func(*args)
    except Exception:
        log.exception("in-process job %s failed", job_spec.name)


class Runner:
    """One queue's jobs on one background thread of this process (the embedded default)."""

    def __init__(self, app: Flask, queue: str):
        self.app = app
        self.pid = os.getpid()
        self._jobs: stdlib_queue.Queue = stdlib_queue.Queue()
        self._idle = threading.Condition()
        self._outstanding = 0
        self._thread = threading.Thread(target=self._run, name=f"jobs-{queue}", daemon=True)
        self._thread.start()

    def submit(self, job_spec: JobSpec, args: tuple) -> None:
        with self._idle:
            self._outstanding += 1
        self._jobs.put((job_spec, args))

    def flush(self, timeout: float = 30) -> bool:
        """Block until every job submitted so far has run (tests, shutdown, CLI)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._outstanding == 0, timeout)

    def stop(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            item = self._jobs.get()
            if item is None:
                return
            try:
                with self.app.app_context():
                    _run_logged(*item)
            finally:
                with self._idle:
                    self._outstanding -= 1
                    self._idle.notify_all()


_runners_lock = threading.Lock()


def runner(app: Flask, queue: str) -> Runner:
    """This process's runner of ``queue`` for ``app`` (created on first use, again after a fork)."""
    key = f"loyalty_social.queue.runner.{queue}"
    current = app.extensions.get(key)
    if current is None or current.pid != os.getpid():
        with _runners_lock:
            current = app.extensions.get(key)
            if current is None or current.pid != os.getpid():
                current = app.extensions[key] = Runner(app, queue)
    return current


def flush_in_process(app: Flask, timeout: float = 30) -> bool:
    """Wait until the in-process runners have run everything submitted so far."""
    return all(
        runner.flush(timeout)
        for name in QUEUES
        if (runner := app.extensions.get(f"loyalty_social.queue.runner.{name}")) is not None
        and runner.pid == os.getpid()
    )


def stop_in_process(app: Flask) -> None:
    for name in QUEUES:
        runner = app.extensions.pop(f"loyalty_social.queue.runner.{name}", None)
        if runner is not None and runner.pid == os.getpid():
            runner.stop()


def oldest_live_job(app: Flask, queue: str) -> datetime | None:
    """When the oldest job of ``queue`` still waiting, running or due for a retry was created;
    None if there is none (or jobs run in-process).

    RQ serves a queue in order, so a job created before this has finished or is gone: work
    handed to a job well before it and still undone was lost (the sweeper's test).
    """
    connection = redis_connection(app)
    if connection is None:
        return None
    found = rq_queue(app, queue)
    ids = found.get_job_ids(0, 1)
    # Cleaned first: a job whose worker died counts as running until its timeout has passed.
    ids += found.started_job_registry.get_job_ids(cleanup=True)
    ids += found.scheduled_job_registry.get_job_ids(cleanup=False)
    if not ids:
        return None
    from rq.job import Job
    from rq.utils import utcparse

    with connection.pipeline() as pipe:
        for job_id in ids:
            pipe.hget(Job.key_for(job_id), "created_at")
        created = [utcparse(raw.decode()) for raw in pipe.execute() if raw]
    return min(created, default=None)


def queue_depth(app: Flask | None = None) -> int | None:
    """Jobs waiting on all queues, or None when jobs run in-process."""
    app = app or current_app
    if not app.config["REDIS_URL"]:
        return None
    return sum(queue.count for queue in rq_queues(app))
