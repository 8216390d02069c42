"""Per-source rate limits shared through Redis, taken in leases: a big limit costs one round
trip per lease, and still holds across processes within one lease each; a small limit is
exact."""

from __future__ import annotations

import uuid

import pytest

from loyalty_social.intake.ratelimit import LEASE_SECONDS, RateLimiter


@pytest.fixture
def namespace():
    return f"lease-test-{uuid.uuid4().hex[:8]}"


def allowed(limiters, name, rate, burst, tries) -> int:
    """Round-robin over the limiters (as web processes would), counting what was let in."""
    return sum(limiters[n % len(limiters)].take(name, rate, burst) == 0.0 for n in range(tries))


def test_a_big_limit_holds_across_processes_within_a_lease_each(redis_url, namespace):
    processes = [RateLimiter(redis_url, namespace) for _ in range(3)]
    # 2,000 per 20 s: leases of 20 permits.
    let_in = allowed(processes, "busy", 100.0, 2000, 2600)
    assert 2000 - 3 * 20 <= let_in <= 2000 + 3 * 20
    # Over the limit, the answer says when to come back.
    assert processes[0].take("busy", 100.0, 2000) > 0


def test_a_small_limit_is_exact_across_processes(redis_url, namespace):
    processes = [RateLimiter(redis_url, namespace) for _ in range(3)]
    assert allowed(processes, "chatty", 1.0, 50, 80) == 50


def test_a_lease_left_unused_expires(redis_url, namespace, monkeypatch):
    import loyalty_social.intake.ratelimit as ratelimit

    limiter = RateLimiter(redis_url, namespace)
    assert limiter.take("quiet", 100.0, 1000) == 0.0  # leases 10, uses 1
    clock = ratelimit.time.monotonic() + LEASE_SECONDS + 0.01
    monkeypatch.setattr(ratelimit.time, "monotonic", lambda: clock)
    # The 9 leased permits are gone (using them now could exceed the window): what is left
    # is the window's 990, not 999.
    assert allowed([limiter], "quiet", 100.0, 1000, 1200) == 990
