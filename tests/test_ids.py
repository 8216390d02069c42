"""Ids: time-ordered, Crockford base32, and the ledger's strictly ordered within a millisecond."""

import re
import threading
import time

from loyalty_social.ids import OrderedIds, new_id

ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def millis(identifier: str) -> int:
    """The leading 10 characters: milliseconds since the epoch (ULID layout)."""
    value = 0
    for char in identifier.split("_", 1)[1][:10]:
        value = value * 32 + ALPHABET.index(char)
    return value


def test_new_ids_have_the_prefix_and_sort_by_creation_time():
    before = int(time.time() * 1000)
    first = new_id("evt")
    time.sleep(0.002)
    second = new_id("evt")
    after = int(time.time() * 1000)
    assert first.startswith("evt_") and ULID.match(first[4:])
    assert first < second
    assert before <= millis(first) <= millis(second) <= after
    assert len({new_id("x") for _ in range(10000)}) == 10000


def test_ordered_ids_keep_their_order_across_threads_within_a_millisecond():
    ids = OrderedIds("led")
    made: list[list[str]] = [[] for _ in range(4)]

    def make(into):
        for _ in range(5000):
            into.append(ids.next())

    threads = [threading.Thread(target=make, args=(m,)) for m in made]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = [i for m in made for i in m]
    assert len(set(everything)) == 20000
    for m in made:
        assert m == sorted(m)  # each thread sees them increase
