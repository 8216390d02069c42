"""Prometheus metrics: requests, latency, events and awards by outcome, queue depth, backlogs.

Under a multi-process server, ``serve`` sets PROMETHEUS_MULTIPROC_DIR so every worker process
writes its samples where /metrics can add them up. Values read at scrape time (a feature's
backlog) come from small functions the features register at app start (``register_gauge``),
so this module imports no feature; each must stay cheap (an index lookup, a capped count),
since Prometheus scrapes every few seconds.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask import Blueprint, Response, current_app, g, has_app_context, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily

from .access.auth import require_scope

REQUESTS = Counter(
    "loyalty_social_http_requests_total", "HTTP requests", ["endpoint", "method", "status"]
)
LATENCY = Histogram(
    "loyalty_social_http_request_duration_seconds",
    "HTTP request latency",
    ["endpoint"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
EVENTS_RECEIVED = Counter(
    "loyalty_social_events_received_total", "Webhooks received, by outcome", ["outcome"]
)
EVENTS_PROCESSED = Counter(
    "loyalty_social_events_processed_total", "Events processed, by outcome", ["outcome"]
)
AWARDS = Counter("loyalty_social_awards_total", "Award decisions, by outcome", ["outcome"])

metrics_bp = Blueprint("metrics", __name__)
# Methods a request counter labels by name; anything else is "other", so a client inventing
# methods cannot create series without end.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_GAUGES_KEY = "loyalty_social.metrics.gauges"


def method_label(method: str) -> str:
    return method if method in KNOWN_METHODS else "other"


@dataclass(frozen=True)
class ScrapedGauge:
    name: str
    documentation: str
    labels: tuple[str, ...]
    # Returns (label values, value) pairs; runs inside the app context of the scrape.
    read: Callable[[], Iterable[tuple[tuple[str, ...], float]]]


def register_gauge(app, name, documentation, read, labels: tuple[str, ...] = ()) -> None:
    """A feature adds a gauge read at scrape time (``read`` must be cheap)."""
    app.extensions.setdefault(_GAUGES_KEY, {})[name] = ScrapedGauge(
        name, documentation, labels, read
    )


class BacklogCollector:
    """Queue depth and the gauges features registered, read at scrape time."""

    def __init__(self, app):
        self.app = app

    def collect(self):
        # Scraped inside the /metrics request: reuse its session (SQLite allows one writer).
        if has_app_context():
            yield from self._collect()
        else:
            with self.app.app_context():
                yield from self._collect()

    def _collect(self):
        from .queue import queue_depth

        depth = GaugeMetricFamily("loyalty_social_queue_depth", "Jobs waiting in RQ")
        try:
            value = queue_depth(self.app)
        except Exception:
            value = None
        if value is not None:
            depth.add_metric([], value)
        yield depth
        for gauge in self.app.extensions.get(_GAUGES_KEY, {}).values():
            family = GaugeMetricFamily(gauge.name, gauge.documentation, labels=gauge.labels)
            for label_values, value in gauge.read():
                family.add_metric(list(label_values), value)
            yield family


def _start_timer():
    g._metrics_started = time.perf_counter()


def _record(response):
    started = g.pop("_metrics_started", None)
    if started is not None:
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        LATENCY.labels(endpoint).observe(time.perf_counter() - started)
        REQUESTS.labels(endpoint, method_label(request.method), str(response.status_code)).inc()
    return response


@metrics_bp.get("/metrics")
@require_scope("metrics")
def metrics():
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY

        registry = REGISTRY
    output = generate_latest(registry)
    output += generate_latest(_backlog_registry())
    return Response(output, mimetype=CONTENT_TYPE_LATEST)


def _backlog_registry():
    registry = CollectorRegistry()
    registry.register(BacklogCollector(current_app._get_current_object()))
    return registry


def init_app(app) -> None:
    app.before_request(_start_timer)
    app.after_request(_record)
    app.register_blueprint(metrics_bp)
