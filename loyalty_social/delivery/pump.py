"""The embedded default's delivery worker: one thread per process, no Redis.

It delivers what commits hand it (``notify``) and, when idle for SWEEP_INTERVAL_SECONDS, runs
the sweeper (retries that came due, rows a crash left behind). Delivery never runs on the
thread that committed, so a slow backend cannot hold up evaluation or a request.
"""

from __future__ import annotations

import os
import threading

from ..batching import BatchingThread

_KEY = "loyalty_social.delivery.pump"
_lock = threading.Lock()


class Pump(BatchingThread):
    def __init__(self, app):
        self.app = app
        self.pid = os.getpid()
        super().__init__(
            "delivery-pump",
            self._deliver,
            app.config["DELIVERY_BATCH_SIZE"],
            on_idle=self._sweep,
            idle_seconds=app.config["SWEEP_INTERVAL_SECONDS"],
        )

    def _deliver(self, ids: list[str]) -> None:
        from .service import deliver

        with self.app.app_context():
            deliver(ids)

    def _sweep(self) -> None:
        from .service import sweep

        with self.app.app_context():
            sweep()


def pump(app) -> Pump:
    """This process's pump for ``app`` (created on first use, again after a fork)."""
    current = app.extensions.get(_KEY)
    if current is None or current.pid != os.getpid():
        with _lock:
            current = app.extensions.get(_KEY)
            if current is None or current.pid != os.getpid():
                current = Pump(app)
                app.extensions[_KEY] = current
    return current


def stop_pump(app) -> None:
    current = app.extensions.pop(_KEY, None)
    if current is not None and current.pid == os.getpid():
        current.stop()
