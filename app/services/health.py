"""What the health endpoints report, and the cached upstream checks behind them.

Every check is bounded by its own timeout, shared by concurrent callers and reused
for ``ttl`` seconds, so probes cannot flood Prometheus; and no check ever raises:
a down, slow or garbage-speaking Prometheus is reported, never turned into a 500.

    monitor = HealthMonitor.for_settings(settings, http)
    body = await health_report(monitor, settings)
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from app import __version__
from app.breaker import BreakerState, CircuitBreaker
from app.cache.store import ResponseStore
from app.credentials import public_url
from app.errors import UpstreamError
from app.observability.system import SystemSampler
from app.promql.client import PrometheusClient
from app.promql.durations import iso8601
from app.promql.redact import RedactingUpstream
from app.promql.upstream import Upstream
from app.schemas.health import (
    CheckResult,
    CollectionHealthResponse,
    HealthChecks,
    HealthResponse,
    HealthStatus,
    LivenessResponse,
    ReadinessResponse,
)
from app.schemas.queries import InstantQuery
from app.services.latency import P95, Source, fetch_quantiles
from app.settings import Settings
from app.singleflight import SingleFlight

log = logging.getLogger("app.health")

_SEVERITY: dict[HealthStatus, int] = {"healthy": 0, "degraded": 1, "unhealthy": 2}


@dataclass(frozen=True, slots=True)
class UpstreamCheck:
    """One attempt to reach Prometheus; ``model_count`` only for the P95 probe."""

    ok: bool
    message: str
    latency_ms: float
    checked_at: float
    model_count: int | None = None


class CachedCheck:
    """Run ``check`` at most once per ``ttl`` seconds however many callers ask at once
    (``app/singleflight.py``: a probe that hangs up cancels only its own wait).
    Failures are remembered like successes, so a down Prometheus is not hammered."""

    def __init__(
        self,
        check: Callable[[], Awaitable[UpstreamCheck]],
        ttl: float,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._check = check
        self._flight: SingleFlight[None, UpstreamCheck] = SingleFlight(
            ttl=lambda _: ttl, clock=timer
        )

    async def get(self) -> UpstreamCheck:
        return await self._flight.run(None, self._check)


@dataclass(frozen=True, slots=True)
class Collection:
    at: float
    model_count: int


class HealthMonitor:
    """The readiness check, the P95 probe and the record of its last success."""

    def __init__(
        self,
        prometheus: Upstream,
        fixed_matchers: tuple[str, ...] = (),
        *,
        public_name: str | None = None,
        ttl: float = 5.0,
        timeout: float = 2.0,
        slow_seconds: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.prometheus = prometheus
        self.source = Source(prometheus, fixed_matchers)
        self.public_name = public_name
        self.timeout = timeout
        self.slow_seconds = slow_seconds
        self.clock = clock
        self.readiness = CachedCheck(self._check_ready, ttl)
        self.collection = CachedCheck(self._collect, ttl)
        self.last_collection: Collection | None = None
        self.system = SystemSampler()
        self.started = clock()

    @classmethod
    def for_settings(cls, settings: Settings, http: httpx.AsyncClient) -> HealthMonitor:
        """A monitor with its own Prometheus client on the shared connection pool.

        Its own client has no observer (probes do not count as clients' queries in
        ``model_latency_upstream_*``), its own small semaphore (a probe does not queue
        behind a burst of clients' queries and time out while Prometheus is fine), and no
        circuit breaker: probes are already rate-limited by the cache, and each must
        report what Prometheus says now, not that the service stopped asking.
        """
        client = RedactingUpstream(
            PrometheusClient(
                http,
                settings.prometheus_url,
                name=public_url(settings.prometheus_url),
                ready_url=settings.prometheus_ready_url,
                semaphore=asyncio.Semaphore(2),
            ),
            settings.redactor,
        )
        return cls(
            client,
            settings.fixed_matchers,
            public_name=client.name if settings.expose_upstream else None,
            ttl=settings.health_cache_seconds,
            timeout=settings.health_timeout_seconds,
            slow_seconds=settings.health_slow_seconds,
        )

    async def _check_ready(self) -> UpstreamCheck:
        async def ready() -> None:
            await self.prometheus.ready()

        return await self._attempt(ready, "Prometheus is ready")

    async def _collect(self) -> UpstreamCheck:
        async def count_models() -> int:
            # The defaults of GET /api/metrics/p95/: the probe counts the models it shows.
            query = InstantQuery(time=f"{self.clock():.3f}")
            return len((await fetch_quantiles(self.source, query, query.at(), P95)).by_model)

        result = await self._attempt(count_models, "Prometheus answered the P95 query")
        if result.ok and result.model_count is not None:
            self.last_collection = Collection(result.checked_at, result.model_count)
        return result

    async def _attempt(
        self, call: Callable[[], Awaitable[int | None]], success: str
    ) -> UpstreamCheck:
        at = self.clock()
        started = time.perf_counter()

        def failed(message: str) -> UpstreamCheck:
            return UpstreamCheck(False, message, _elapsed_ms(started), at)

        try:
            count = await asyncio.wait_for(call(), self.timeout)
        except TimeoutError:
            return failed(f"Prometheus did not answer within {self.timeout:g}s")
        except UpstreamError as exc:
            return failed(describe(exc))
        except Exception as exc:
            # A health check reports; whatever went wrong is the answer, never a 500.
            log.exception("health check failed unexpectedly")
            return failed(f"Unexpected error checking Prometheus ({type(exc).__name__})")
        return UpstreamCheck(True, success, _elapsed_ms(started), at, count)


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def describe(exc: UpstreamError) -> str:
    reason = exc.details.get("reason")
    return f"{exc.message} ({reason})" if reason else exc.message


def prometheus_status(check: UpstreamCheck, slow_seconds: float) -> HealthStatus:
    """Unhealthy without a usable answer; degraded when the answer came slowly."""
    if not check.ok:
        return "unhealthy"
    return "degraded" if check.latency_ms > slow_seconds * 1000 else "healthy"


def worst(statuses: list[HealthStatus]) -> HealthStatus:
    return max(statuses, key=_SEVERITY.__getitem__)


async def application_check(breaker: CircuitBreaker | None = None) -> CheckResult:
    """The process answers; latency is one trip through its event loop (lag shows here).

    Degraded while the clients' circuit to Prometheus is open: they get stale or 503
    answers until it closes, even if Prometheus has just recovered.
    """
    started = time.perf_counter()
    await asyncio.sleep(0)
    latency = _elapsed_ms(started)
    if breaker is not None and breaker.state is BreakerState.OPEN:
        wait = breaker.retry_after()
        message = f"Circuit to Prometheus is open; clients' queries resume in {wait:.0f}s"
        return CheckResult(status="degraded", message=message, latency_ms=latency)
    return CheckResult(status="healthy", message="Application is running", latency_ms=latency)


async def shared_cache_check(store: ResponseStore | None) -> CheckResult | None:
    """Degraded, never unhealthy, while the shared cache is down: answers still flow."""
    if store is None:
        return None
    found = await store.health()
    status: HealthStatus = "healthy" if found.ok else "degraded"
    message = found.message if found.ok else f"{found.message}; each replica uses its own cache"
    return CheckResult(status=status, message=message, latency_ms=found.latency_ms)


async def health_report(
    monitor: HealthMonitor,
    settings: Settings,
    breaker: CircuitBreaker | None = None,
    shared: ResponseStore | None = None,
) -> HealthResponse:
    check = await monitor.collection.get()
    status = prometheus_status(check, monitor.slow_seconds)
    message = check.message
    if status == "degraded":
        message += f", slower than {monitor.slow_seconds:g}s"
    prometheus = CheckResult(status=status, message=message, latency_ms=check.latency_ms)
    application = await application_check(breaker)
    cache = await shared_cache_check(shared)
    statuses = [prometheus.status, application.status] + ([cache.status] if cache else [])
    return HealthResponse(
        status=worst(statuses),
        timestamp=round(monitor.clock(), 3),
        version=__version__,
        environment=settings.environment,
        service=settings.service_name,
        checks=HealthChecks(prometheus=prometheus, application=application, shared_cache=cache),
    )


async def readiness(monitor: HealthMonitor) -> ReadinessResponse:
    check = await monitor.readiness.get()
    return ReadinessResponse(
        status="ready" if check.ok else "not_ready",
        reason=None if check.ok else check.message,
        upstream=monitor.public_name,
        latency_ms=check.latency_ms,
        checked_at=iso8601(check.checked_at),
    )


async def collection_health(monitor: HealthMonitor) -> CollectionHealthResponse:
    check = await monitor.collection.get()
    last = monitor.last_collection
    return CollectionHealthResponse(
        status="healthy" if check.ok else "unhealthy",
        last_collection=iso8601(last.at) if last else None,
        minutes_ago=round(max(0.0, monitor.clock() - last.at) / 60, 2) if last else None,
        model_count=last.model_count if last else None,
        error=None if check.ok else check.message,
    )


def liveness(monitor: HealthMonitor) -> LivenessResponse:
    return LivenessResponse(
        pid=os.getpid(), uptime_seconds=round(monitor.clock() - monitor.started, 3)
    )
