"""A background thread that takes ids from many threads and handles them in batches.

Used where a commit must hand work on without doing it itself: intake's dispatcher (stored
events -> process_events jobs). ``flush`` lets tests and shutdown wait for everything handed
over so far, without sleeping.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class BatchingThread:
    def __init__(
        self,
        name: str,
        handle: Callable[[list[str]], None],
        batch_size: int,
        linger_seconds: float = 0.0,
    ):
        self.handle = handle
        self.batch_size = batch_size
        # Wait this long for more ids before handling a short batch: a little latency buys
        # far fewer (costly) handle calls under load.
        self.linger_seconds = linger_seconds
        self._queue: queue.Queue = queue.Queue()
        self._idle = threading.Condition()
        self._outstanding = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def notify(self, ids: list[str]) -> None:
        with self._idle:
            self._outstanding += len(ids)
        self._queue.put(list(ids))

    def flush(self, timeout: float = 30) -> bool:
        """Block until every id notified so far was handled."""
        with self._idle:
            return self._idle.wait_for(lambda: self._outstanding == 0, timeout)

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            ids = self._queue.get()
            if ids is None:
                return
            deadline = time.monotonic() + self.linger_seconds
            while len(ids) < self.batch_size:
                try:
                    more = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)
                    break
                ids.extend(more)
            try:
                for start in range(0, len(ids), self.batch_size):
                    self._guarded(self.handle, ids[start : start + self.batch_size])
            finally:
                with self._idle:
                    self._outstanding -= len(ids)
                    self._idle.notify_all()

    def _guarded(self, func, *args) -> None:
        try:
            func(*args)
        except Exception:
            log.exception("%s failed; the sweeper will retry", self._thread.name)
