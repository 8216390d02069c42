"""Failed sign-ins per address, with ``limits`` (a moving window: in Redis when REDIS_URL is
set, so every web process counts together; in memory otherwise). Only failures count: a
person who signs in correctly is never slowed down. The per-account lock lives on the account
row (``access.users.authenticate``)."""

from __future__ import annotations

import logging

from flask import current_app
from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
EXTENSION = "loyalty_social.console.lockout"


class AddressLimiter:
    def __init__(self, redis_url: str, attempts: int, seconds: int, namespace: str):
        self.item = RateLimitItemPerSecond(max(1, attempts), max(1, seconds))
        self.local = MovingWindowRateLimiter(MemoryStorage())
        self.shared = (
            MovingWindowRateLimiter(
                RedisStorage(
                    redis_url,
                    key_prefix=f"{namespace}:console-login",
                    socket_connect_timeout=0.5,
                    socket_timeout=0.5,
                )
            )
            if redis_url
            else None
        )

    def _run(self, method: str, address: str):
        if self.shared is not None:
            try:
                return getattr(self.shared, method)(self.item, address)
            except RedisError as error:
                log.warning("console lock-out: Redis unavailable (%s), counting in memory", error)
        return getattr(self.local, method)(self.item, address)

    def blocked(self, address: str) -> bool:
        return not self._run("test", address)

    def failed(self, address: str) -> None:
        self._run("hit", address)


def init_app(app) -> None:
    config = app.config
    app.extensions[EXTENSION] = AddressLimiter(
        config["REDIS_URL"],
        config["CONSOLE_IP_LOCKOUT_ATTEMPTS"],
        config["CONSOLE_LOCKOUT_SECONDS"],
        config["QUEUE_NAME"],
    )


def limiter() -> AddressLimiter:
    return current_app.extensions[EXTENSION]
