"""Fixtures of the delivery tests: the stand-in backend, and apps that talk to it."""

from __future__ import annotations

import pytest

from loyalty_social import queue, schedule

from .standin import StandIn

# Fast clocks, so retries, leases and horizons play out in seconds.
FAST = {
    "SWEEP_INTERVAL_SECONDS": 0.2,
    "SWEEP_AFTER_SECONDS": 2,
    "DELIVERY_BACKOFF_BASE_SECONDS": 0.05,
    "DELIVERY_BACKOFF_CAP_SECONDS": 0.4,
    "DELIVERY_LEASE_SECONDS": 5,
    "BACKEND_CONNECT_TIMEOUT_SECONDS": 0.5,
    "BACKEND_READ_TIMEOUT_SECONDS": 0.5,
    "SUBSCRIPTION_CACHE_SECONDS": 0,
}


@pytest.fixture
def standin():
    servers = []

    def start(**kwargs) -> StandIn:
        server = StandIn(**kwargs)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


def http_config(config: dict, backend_url: str, **extra) -> dict:
    return {
        **config,
        **FAST,
        "BACKEND_ADAPTER": "http",
        "BACKEND_URL": backend_url,
        **extra,
    }


@pytest.fixture
def delivery_app(make_app):
    """Like make_app, with the embedded default's schedule running as under ``serve`` (retries
    come due); stops it and the in-process delivery thread before the database goes away."""
    apps = []

    def factory(config: dict):
        app = make_app(config)
        apps.append(app)
        schedule.start_in_process(app)
        return app

    yield factory
    for app in apps:
        schedule.stop_in_process(app)
        queue.stop_in_process(app)
