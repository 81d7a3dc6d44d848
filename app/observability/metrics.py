"""Every metric the service exports about itself, registered in one injectable registry.

Dashboards and alert rules are written against these names and labels; change
them only together with the README (Observability and health).

>>> metrics = ServiceMetrics(CollectorRegistry())
>>> metrics.count_cache_event("hit")  # ResponseCache(..., on_event=metrics.count_cache_event)
>>> metrics.registry.get_sample_value("model_latency_cache_hits_total")
1.0

and ``PrometheusClient(http, url, observer=metrics.observe_upstream)`` for upstream calls.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar, cast

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
)

from app import __version__
from app.observability import multiprocess

LATENCY_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)
"""Seed 003's bounds (10 ms ... 30 s) plus finer ones below 10 ms and between its steps:
cache hits answer well under 10 ms (docs/performance.md), so with 10 ms as the first
bound every percentile panel would read "under 10 ms" and nothing more."""

MetricT = TypeVar("MetricT", Counter, Gauge, Histogram)

UPSTREAM_OUTCOMES = ("success", "error", "timeout", "unreachable", "overloaded")


class ServiceMetrics:
    """The service's own metrics and the hooks that feed them.

    ``registry`` defaults to a fresh ``CollectorRegistry`` per instance, so several apps
    in one process (tests) never collide. With ``PROMETHEUS_MULTIPROC_DIR`` set, the
    values live in that directory and ``/metrics`` sums them across worker processes.
    """

    def __init__(
        self, registry: CollectorRegistry | None = None, *, version: str = __version__
    ) -> None:
        # No ``*_created`` series: multiprocess mode cannot produce them, and a scrape
        # should look the same whatever the worker count (this is process-wide).
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = registry if registry is not None else CollectorRegistry()
        self._children: dict[tuple[int | str, ...], Counter | Gauge | Histogram] = {}
        self._answered: dict[tuple[str, str, int], Callable[[float], None]] = {}
        self.multiprocess_dir: Path | None = multiprocess.configured_dir()
        self._http_metrics()
        self._upstream_metrics()
        self._cache_metrics()
        self._shared_cache_metrics()
        build = Gauge(
            "model_latency_build_info",
            "Always 1; the version label names the running build.",
            ["version"],
            registry=self.registry,
            multiprocess_mode="max",
        )
        build.labels(version).set(1)
        if self.multiprocess_dir is None:
            # In multiprocess mode the exposition adds a collector that sums every worker.
            ProcessCollector(registry=self.registry)

    def _http_metrics(self) -> None:
        labels = ["handler", "method"]
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests answered, by route template, method and status code.",
            [*labels, "status"],
            registry=self.registry,
        )
        self.request_duration = Histogram(
            "http_request_duration_seconds",
            "Time from receiving an HTTP request to the end of its response.",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.in_progress = Gauge(
            "http_requests_in_progress",
            "HTTP requests being answered right now.",
            labels,
            registry=self.registry,
            multiprocess_mode="livesum",
        )

    def _upstream_metrics(self) -> None:
        self.upstream_queries = Counter(
            "model_latency_upstream_queries_total",
            "Calls to Prometheus made for clients' requests, by outcome.",
            ["outcome"],
            registry=self.registry,
        )
        self.upstream_duration = Histogram(
            "model_latency_upstream_query_duration_seconds",
            "Duration of calls to Prometheus, by outcome.",
            ["outcome"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        for outcome in UPSTREAM_OUTCOMES:
            # Present at zero from the start, so rate() and alert rules see every outcome.
            self.upstream_queries.labels(outcome)
            self.upstream_duration.labels(outcome)

    def _cache_metrics(self) -> None:
        self.cache_events = {
            event: Counter(
                f"model_latency_cache_{name}_total",
                text,
                registry=self.registry,
            )
            for event, name, text in (
                ("hit", "hits", "Requests answered from the response cache."),
                ("miss", "misses", "Requests that started a Prometheus query."),
                ("coalesced", "coalesced", "Requests that joined a query already in flight."),
                ("stale", "stale", "Requests answered with an expired response (stale-if-error)."),
            )
        }
        self.stream_clients = Gauge(
            "model_latency_stream_clients",
            "Live streams (GET /api/metrics/stream/) open now (summed over worker processes).",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.cache_entries = Gauge(
            "model_latency_cache_entries",
            "Responses held in the cache (summed over worker processes).",
            registry=self.registry,
            multiprocess_mode="livesum",
        )

    def _shared_cache_metrics(self) -> None:
        self.shared_cache_calls = Counter(
            "model_latency_shared_cache_calls_total",
            "Calls to the shared cache (Redis) by operation and outcome "
            "(hit, miss, ok, error, skipped while its breaker is open).",
            ["operation", "outcome"],
            registry=self.registry,
        )
        self.shared_cache_duration = Histogram(
            "model_latency_shared_cache_duration_seconds",
            "Time spent in calls to the shared cache, by operation.",
            ["operation"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
            registry=self.registry,
        )

    def observe_shared_cache(self, operation: str, outcome: str, seconds: float) -> None:
        """``RedisStore``'s observer hook."""
        self._child(self.shared_cache_calls, operation, outcome).inc()
        self._child(self.shared_cache_duration, operation).observe(max(0.0, seconds))

    def observe_upstream(self, outcome: str, seconds: float) -> None:
        """``PrometheusClient``'s observer hook; unknown outcomes count as ``error``."""
        if outcome not in UPSTREAM_OUTCOMES:
            outcome = "error"
        self.upstream_queries.labels(outcome).inc()
        self.upstream_duration.labels(outcome).observe(max(0.0, seconds))

    def count_cache_event(self, event: str) -> None:
        """``ResponseCache``'s on_event hook: ``hit``, ``miss``, ``coalesced`` or ``stale``."""
        counter = self.cache_events.get(event)
        if counter is not None:
            counter.inc()

    def in_progress_for(self, handler: str, method: str) -> Gauge:
        return self._child(self.in_progress, handler, method)

    def observe_request(self, handler: str, method: str, status: int, seconds: float) -> None:
        self.answered(handler, method, status)(seconds)

    def answered(self, handler: str, method: str, status: int) -> Callable[[float], None]:
        """What counts an answer of ``handler``, ``method`` and ``status`` and observes its
        seconds; made once for each (``labels()`` is most of the cost)."""
        found = self._answered.get((handler, method, status))
        if found is None:
            requests = self._child(self.requests, handler, method, str(status))
            duration = self._child(self.request_duration, handler, method)

            def observe(seconds: float) -> None:
                requests.inc()
                duration.observe(max(0.0, seconds))

            found = self._answered[(handler, method, status)] = observe
        return found

    def _child(self, metric: MetricT, *labels: str) -> MetricT:
        """``metric.labels(*labels)``, remembered: ``labels()`` is most of a request's cost.

        Bounded because every label comes from a closed set (routes, methods, statuses).
        """
        key: tuple[int | str, ...] = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return cast(MetricT, child)
