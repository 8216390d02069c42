"""The schedule: periodic jobs, once per interval for the whole deployment.

Jobs registered with ``@job(..., every="SETTING")`` (the sweeper, due delivery retries, the
account-health check, ...) run once per that many seconds, wherever the deployment runs:

- With Redis: RQ's ``CronScheduler`` enqueues them on their queues; workers run them. RQ's
  scheduler elects no leader (every instance enqueues everything), so ours holds a Redis
  lock first: any number of candidates (``loyalty-social scheduler``, or the thread each
  ``loyalty-social worker`` starts) may run, one leads, another takes over within
  ``LEASE_SECONDS`` when it dies. Each run also claims its interval with a key that expires
  with it, so a handover never runs a job twice in one interval, and a run whose previous job
  still waits (workers down) is skipped, so an outage leaves one job, not a pile.
- Embedded default: a thread in the web process enqueues them (``events`` jobs run on it,
  others on their queue's thread, see ``queue.py``); a file lock in the instance folder keeps
  it to one process when the server runs several.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
import time
from datetime import timedelta
from pathlib import Path

from flask import Flask
from redis.exceptions import LockError, RedisError
from rq.cron import CronJob, CronScheduler
from rq.job import Job, JobStatus
from rq.utils import now

from .queue import JobSpec, enqueue, job_timeout, periodic, queue_name, redis_connection

log = logging.getLogger(__name__)
# A candidate checks (and the leader renews its lease) this often, seconds.
TICK_SECONDS = 1.0
# A leader that stops renewing loses the lead after this, seconds.
LEASE_SECONDS = 10
_WAITING = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


# The shortest period honoured, seconds (tests run the schedule fast).
MIN_PERIOD_SECONDS = 0.1


def intervals(app: Flask) -> list[tuple[JobSpec, float]]:
    """Each periodic job with its period in seconds."""
    return [(spec, max(MIN_PERIOD_SECONDS, float(app.config[spec.every]))) for spec in periodic()]


def tick_seconds(app: Flask) -> float:
    return min([TICK_SECONDS] + [seconds for _, seconds in intervals(app)])


class LeaderScheduler(CronScheduler):
    """RQ's CronScheduler, enqueueing only while it holds the deployment's scheduler lock."""

    def __init__(self, app: Flask, connection=None):
        connection = connection or redis_connection(app)
        super().__init__(connection, logging_level=app.config["LOG_LEVEL"])
        prefix = app.config["QUEUE_NAME"]
        self.interval_key = f"{prefix}:schedule:ran:{{}}"
        self.lock = connection.lock(
            f"{prefix}:schedule:leader", timeout=LEASE_SECONDS, thread_local=False
        )
        self.leading = False
        self.tick = tick_seconds(app)
        for spec, seconds in intervals(app):
            self.register(
                spec.func,
                queue_name(app, spec.queue),
                interval=seconds,
                job_timeout=job_timeout(spec, app),
                name=spec.name,
                failure_ttl=7 * 24 * 3600,
            )

    def lead(self) -> bool:
        """Take or renew the lead; False while another scheduler has it."""
        try:
            if self.leading:
                self.lock.reacquire()
            else:
                self.leading = self.lock.acquire(blocking=False)
                if self.leading:
                    self.log.info("scheduler %s leads the schedule", self.name)
        except LockError:
            self.log.warning("scheduler %s lost the lead", self.name)
            self.leading = False
        return self.leading

    def enqueue_jobs(self) -> list[CronJob]:
        if not self.lead():
            return []
        enqueued = []
        for cron_job in self._cron_jobs:
            if not cron_job.should_run():
                continue
            started = now()
            if self._previous_waiting(cron_job):
                cron_job.set_enqueue_time(started)  # one waiting run is enough
                continue
            key = self.interval_key.format(cron_job.name)
            period_ms = int(cron_job.interval * 1000)
            if not self.connection.set(key, self.name, nx=True, px=period_ms):
                # Run in this interval already (by the leader before a handover): wait it out.
                remaining_ms = max(0, self.connection.pttl(key))
                elapsed = timedelta(milliseconds=period_ms - remaining_ms)
                cron_job.set_enqueue_time(started - elapsed)
                continue
            cron_job.enqueue(self.connection)
            cron_job.set_enqueue_time(started)
            enqueued.append(cron_job)
        return enqueued

    def _previous_waiting(self, cron_job: CronJob) -> bool:
        ids = cron_job.get_job_ids(self.connection, 0, 0)
        if not ids:
            return False
        status = self.connection.hget(Job.key_for(ids[0]), "status")
        return status is not None and JobStatus(status.decode()) in _WAITING

    def run(self, stop: threading.Event) -> None:
        """Lead or stand by until ``stop`` is set (RQ's ``start`` wants the main thread)."""
        self.register_birth()
        try:
            while not stop.is_set():
                try:
                    if self.enqueue_jobs():
                        self.save()
                    self.heartbeat()
                except RedisError as error:
                    self.log.warning("scheduler: Redis unavailable (%s)", type(error).__name__)
                    self.leading = False
                stop.wait(min(self.tick, max(0.05, self.calculate_sleep_interval())))
        finally:
            try:
                if self.leading:
                    self.lock.release()
                self.register_death()
            except (RedisError, LockError):
                self.log.debug("scheduler: leaving without releasing the lead", exc_info=True)


def start_leader_thread(app: Flask) -> tuple[threading.Thread, threading.Event]:
    """A scheduler candidate on a daemon thread (``loyalty-social worker``)."""
    stop = threading.Event()
    scheduler = LeaderScheduler(app)
    thread = threading.Thread(target=scheduler.run, args=(stop,), name="schedule", daemon=True)
    thread.start()
    return thread, stop


class InProcessSchedule:
    """The embedded default's schedule: a thread that runs each periodic job when due."""

    def __init__(self, app: Flask):
        self.app = app
        self.pid = os.getpid()
        self.stop_event = threading.Event()
        # One schedule per database: the lock file is named for it.
        database = hashlib.sha256(app.config["DATABASE_URL"].encode()).hexdigest()[:16]
        self._lock_path = Path(app.instance_path) / f"schedule-{database}.lock"
        self._lock_file = None
        self._thread = threading.Thread(target=self._run, name="schedule", daemon=True)
        self._thread.start()

    def _lead(self) -> bool:
        """One process of this instance folder runs the schedule; the lock dies with it."""
        if self._lock_file is None:
            self._lock_path.parent.mkdir(parents=True, exist_ok=True)
            handle = self._lock_path.open("a")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                return False
            self._lock_file = handle
        return True

    def _run(self) -> None:
        last_run: dict[str, float] = {}
        while not self.stop_event.wait(tick_seconds(self.app)):
            if not self._lead():
                continue
            for spec, seconds in intervals(self.app):
                started = time.monotonic()
                if started - last_run.get(spec.name, -seconds) < seconds:
                    continue
                last_run[spec.name] = started
                log.info("schedule: running %s in process %d", spec.name, os.getpid())
                try:
                    with self.app.app_context():
                        enqueue(spec.name)
                except Exception:
                    log.exception("scheduled job %s failed", spec.name)

    def stop(self) -> None:
        self.stop_event.set()
        self._thread.join(timeout=10)
        if self._lock_file is not None:
            self._lock_file.close()


_in_process_lock = threading.Lock()


def start_in_process(app: Flask) -> InProcessSchedule | None:
    """Run the schedule in this process when jobs run in-process (no-op with Redis, where
    ``loyalty-social worker``/``scheduler`` run it). Called by the WSGI entry point."""
    if app.config["REDIS_URL"]:
        return None
    key = "loyalty_social.schedule"
    with _in_process_lock:
        current = app.extensions.get(key)
        if current is None or current.pid != os.getpid():
            current = app.extensions[key] = InProcessSchedule(app)
    return current


def stop_in_process(app: Flask) -> None:
    current = app.extensions.pop("loyalty_social.schedule", None)
    if current is not None and current.pid == os.getpid():
        current.stop()
