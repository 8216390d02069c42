"""Per-source webhook rate limits, with the ``limits`` library.

With REDIS_URL set the count lives in Redis, so a source's limit holds across every web
process and host (one round trip per webhook: a moving window in one Lua script, exact:
no double burst at a window boundary);
without Redis it is kept per process in memory. A source's ``rate`` (per second) and
``burst`` become "``burst`` per ``burst / rate`` seconds": a full burst at once, the rate on
average. Redis only carries work: when it is unreachable, each process falls back to its own
memory count for a few seconds rather than refusing or stalling webhooks.

Leases (measured: the Redis round trip was the largest single cost of a webhook, 135 µs of
web CPU out of about 600, plus Redis's own CPU on the same cores): a process takes permits
from the shared window in a lease of ``limit // 100`` (at most 50) with one ``hit(cost=n)``
and hands them out from memory for at most ``LEASE_SECONDS``. A source's limit can then be
exceeded by at most one lease per web process per window (1 % of the limit each); a limit
under 200 per window is never leased, so small limits stay exact, and near the limit, when
a whole lease is no longer free, single permits are taken as before.
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
MAX_LEASE = 50
LEASE_SECONDS = 1.0


def lease_size(item: RateLimitItem) -> int:
    return max(1, min(MAX_LEASE, item.amount // 100))


class _Lease:
    __slots__ = ("left", "refill", "until")

    def __init__(self):
        self.left = 0
        self.until = 0.0
        self.refill = threading.Lock()  # one thread per source asks Redis for the next lease


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
        self._leases: dict[str, _Lease] = {}
        self._lock = threading.Lock()
        self._shared_after = 0.0

    def _item(self, rate: float, burst: int) -> RateLimitItem:
        item = self._items.get((rate, burst))
        if item is None:
            with self._lock:
                item = self._items.setdefault((rate, burst), limit_item(rate, burst))
        return item

    def _from_lease(self, name: str) -> bool:
        lease = self._leases.get(name)
        if lease is None:
            with self._lock:
                lease = self._leases.setdefault(name, _Lease())
        with self._lock:
            if lease.left > 0 and time.monotonic() < lease.until:
                lease.left -= 1
                return True
        return False

    def _lease(self, name: str, item: RateLimitItem, size: int) -> bool:
        """Take a lease from Redis (one round trip for ``size`` requests), or one permit."""
        lease = self._leases[name]
        with lease.refill:
            if self._from_lease(name):  # another thread refilled while this one waited
                return True
            if self.shared.hit(item, name, cost=size):
                with self._lock:
                    lease.left = size - 1
                    lease.until = time.monotonic() + min(LEASE_SECONDS, item.get_expiry())
                return True
            return self.shared.hit(item, name)

    def take(self, name: str, rate: float, burst: int) -> float:
        """Count one request; return 0 when allowed, else seconds until one is available."""
        item = self._item(rate, burst)
        limiter = self.local
        if self.shared is not None and time.monotonic() >= self._shared_after:
            limiter = self.shared
        size = lease_size(item)
        try:
            if limiter is self.shared and size > 1:
                if self._from_lease(name) or self._lease(name, item, size):
                    return 0.0
            elif limiter.hit(item, name):
                return 0.0
            reset_at = limiter.get_window_stats(item, name).reset_time
        except RedisError as error:
            log.warning("rate limits: Redis unavailable (%s), counting in memory", error)
            self._shared_after = time.monotonic() + FALLBACK_SECONDS
            return self.take(name, rate, burst)
        return max(0.001, reset_at - time.time())
