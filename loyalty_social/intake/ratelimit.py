"""Per-source webhook rate limits, with the ``limits`` library.

With REDIS_URL set the count lives in Redis, so a source's limit holds across every web
process and host (one round trip per webhook: a moving window in one Lua script, exact:
no double burst at a window boundary);
without Redis it is kept per process in memory. A source's ``rate`` (per second) and
``burst`` become "``burst`` per ``burst / rate`` seconds": a full burst at once, the rate on
average. Redis only carries work: when it is unreachable, each process falls back to its own
memory count for a few seconds rather than refusing or stalling webhooks.
"""

from __future__ import annotations

import logging
import threading
import time

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
# After Redis failed, count in memory this long before trying it again, seconds.
FALLBACK_SECONDS = 5.0


def limit_item(rate: float, burst: int) -> RateLimitItem:
    window = max(1, round(burst / rate)) if rate > 0 else 1
    return RateLimitItemPerSecond(max(1, round(rate * window)), window)


class RateLimiter:
    def __init__(self, redis_url: str = "", namespace: str = "loyalty-social"):
        self.local = MovingWindowRateLimiter(MemoryStorage())
        self.shared = None
        if redis_url:
            storage = RedisStorage(
                redis_url,
                key_prefix=f"{namespace}:ratelimit",
                socket_connect_timeout=0.5,
                socket_timeout=0.5,
            )
            self.shared = MovingWindowRateLimiter(storage)
        self._items: dict[tuple[float, int], RateLimitItem] = {}
        self._lock = threading.Lock()
        self._shared_after = 0.0

    def _item(self, rate: float, burst: int) -> RateLimitItem:
        item = self._items.get((rate, burst))
        if item is None:
            with self._lock:
                item = self._items.setdefault((rate, burst), limit_item(rate, burst))
        return item

    def take(self, name: str, rate: float, burst: int) -> float:
        """Count one request; return 0 when allowed, else seconds until one is available."""
        item = self._item(rate, burst)
        limiter = self.local
        if self.shared is not None and time.monotonic() >= self._shared_after:
            limiter = self.shared
        try:
            if limiter.hit(item, name):
                return 0.0
            reset_at = limiter.get_window_stats(item, name).reset_time
        except RedisError as error:
            log.warning("rate limits: Redis unavailable (%s), counting in memory", error)
            self._shared_after = time.monotonic() + FALLBACK_SECONDS
            return self.take(name, rate, burst)
        return max(0.001, reset_at - time.time())
