"""Opaque, time-ordered string ids (ULID layout) with a type prefix, e.g. ``evt_01J...``.

Time order keeps primary-key indexes append-mostly; the prefix tells a reader what an id names.
"""

import random
import threading
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32
# Every id is made on a request path: encode 10 bits (two characters) per step, not 5.
_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]
_SHIFTS = range(120, -1, -10)  # 13 steps x 10 bits = 130 bits = 26 characters


def _encode(value: int) -> str:
    return "".join([_PAIRS[(value >> shift) & 1023] for shift in _SHIFTS])


def _millis() -> int:
    return int(time.time() * 1000) << 80


def new_id(prefix: str) -> str:
    """48 bits of milliseconds then 80 random bits, as 26 base32 characters."""
    # Unique, not secret (every endpoint is authenticated): the process's Mersenne Twister,
    # seeded from os.urandom and reseeded in every forked worker, costs a tenth of a syscall.
    return prefix + "_" + _encode(_millis() | random.getrandbits(80))


class OrderedIds:
    """Ids that sort in the order this process made them, even within one millisecond (the
    ledger's: entries of one batch keep their order)."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.last = 0
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            value = self.last = max(_millis() | random.getrandbits(48), self.last + 1)
        return self.prefix + "_" + _encode(value)
