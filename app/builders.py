"""What the lifespan builds from the settings: the HTTP client, one upstream per allowed
engine URL, the response cache and the request path's shared state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx

from app.breaker import CircuitBreaker
from app.cache.core import ResponseCache
from app.cache.store import LocalStore, ResponseStore
from app.credentials import public_url
from app.http.stream import StreamHub
from app.observability import ServiceMetrics
from app.observability.logs import send_request_id, timed_upstream
from app.observability.tracing import (
    traced_cache_events,
)
from app.profiles.detect import MetricNames
from app.profiles.loader import ProfileRegistry, load_registry
from app.promql.client import PrometheusClient
from app.promql.range_cache import RangeCache, RangeCachedUpstream
from app.promql.redact import RedactingUpstream
from app.promql.screen import ScreeningUpstream
from app.promql.transport import Http11Transport
from app.promql.upstream import Upstream
from app.services.health import HealthMonitor
from app.services.kinds import HistogramKinds
from app.services.settled import SettledCache
from app.settings import Settings
from app.state import AppState

# The key memo gets this share of CACHE_MAX_BYTES; stored answers the rest.
MEMO_SHARE = 16
SETTLED_SHARE = 16  # of CACHE_MAX_BYTES, for settled earlier evaluations (compare=)


def build_http_client(
    settings: Settings, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    timeout = httpx.Timeout(
        settings.upstream_timeout_seconds, connect=settings.upstream_connect_timeout_seconds
    )
    limits = httpx.Limits(
        max_connections=settings.upstream_max_connections,
        max_keepalive_connections=settings.upstream_max_connections,
    )
    # A plain-http engine gets the lean HTTP/1.1 transport (app/promql/transport.py); https,
    # and a transport a test passes, keep httpx's.
    mounts = (
        None
        if transport is not None
        else {"http://": Http11Transport(max_connections=settings.upstream_max_connections)}
    )
    return httpx.AsyncClient(
        timeout=timeout,
        limits=limits,
        mounts=mounts,
        headers={
            "Accept-Encoding": "gzip" if settings.upstream_compression else "identity",
            **settings.upstream_headers(),
        },
        auth=settings.upstream_auth(),
        trust_env=False,
        follow_redirects=False,
        transport=transport,
        event_hooks={"request": [send_request_id]},
    )


def build_upstreams(
    settings: Settings, http: httpx.AsyncClient, observability: ServiceMetrics | None = None
) -> dict[str, Upstream]:
    """One upstream per allowed Prometheus URL, keyed by its URL without credentials."""
    # Below the pool size (checked by Settings), so fan-out waits here, not in PoolTimeout.
    semaphore = asyncio.Semaphore(settings.upstream_max_concurrency)
    upstreams: dict[str, Upstream] = {}
    for url in sorted(settings.allowed_prometheus_urls):
        client = PrometheusClient(
            http,
            url,
            name=public_url(url),
            ready_url=settings.prometheus_ready_url,
            semaphore=semaphore,
            queue_timeout=settings.upstream_queue_timeout_seconds,
            total_timeout=settings.upstream_timeout_seconds,
            breaker=CircuitBreaker(
                threshold=settings.circuit_failure_threshold,
                cooldown=settings.circuit_open_seconds,
            ),
            observer=timed_upstream(observability.observe_upstream if observability else _ignore),
            max_bytes=settings.upstream_max_bytes,
        )
        ranges = RangeCache(
            max_bytes=settings.range_cache_max_bytes,
            settle_seconds=settings.range_cache_settle_seconds,
        )
        # Under the range cache, which keys series by labels (a repeat would be lost) and
        # passes on errors and warnings as they come: all had their secrets taken out.
        screened = RedactingUpstream(ScreeningUpstream(client), settings.redactor)
        upstreams[client.name] = RangeCachedUpstream(screened, ranges)
    return upstreams


def _ignore(outcome: str, seconds: float) -> None:
    pass


def build_cache(
    settings: Settings,
    shared: ResponseStore | None,
    observability: ServiceMetrics | None,
    traced: bool = False,
) -> ResponseCache:
    """The response cache; the key memo's and the settled answers' bytes come out of
    ``CACHE_MAX_BYTES`` too. ``traced``: cache events also mark the request's span."""
    memo_bytes = settings.cache_max_bytes // MEMO_SHARE
    settled_bytes = settings.cache_max_bytes // SETTLED_SHARE
    near = LocalStore(
        ttl=settings.cache_ttl_seconds,
        stale_seconds=settings.cache_stale_seconds,
        max_bytes=settings.cache_max_bytes - memo_bytes - settled_bytes,
        max_entries=settings.cache_max_entries,
    )
    return ResponseCache(
        near,
        shared,
        claim_seconds=settings.upstream_timeout_seconds,
        wait_seconds=settings.upstream_timeout_seconds,
        on_event=cache_events(observability, traced),
        on_size=observability.cache_entries.set if observability else None,
    )


def cache_events(
    observability: ServiceMetrics | None, traced: bool
) -> Callable[[str], None] | None:
    """Where the cache's events go: the metrics, and the request's span when tracing is on
    (asking for the current span is a cost every cache hit would pay for nothing)."""
    if observability is None:
        return None
    count = observability.count_cache_event
    return traced_cache_events(count) if traced else count


def build_state(
    settings: Settings,
    http: httpx.AsyncClient,
    observability: ServiceMetrics | None = None,
    shared: ResponseStore | None = None,
    profiles: ProfileRegistry | None = None,
    traced: bool = False,
) -> AppState:
    upstreams = build_upstreams(settings, http, observability)
    return AppState(
        settings=settings,
        http=http,
        upstreams=upstreams,
        default_upstream=upstreams[public_url(settings.prometheus_url)],
        cache=build_cache(settings, shared, observability, traced),
        health=HealthMonitor.for_settings(settings, http),
        kinds=HistogramKinds(),
        settled=SettledCache(
            max_bytes=settings.cache_max_bytes // SETTLED_SHARE,
            settle_seconds=settings.range_cache_settle_seconds,
        ),
        streams=StreamHub(
            limit=settings.stream_max_clients,
            max_keys=settings.stream_max_keys,
            max_per_client=settings.stream_max_per_client,
            on_change=observability.stream_clients.set if observability else None,
        ),
        profiles=profiles or load_registry(settings),
        metric_names=MetricNames(ttl=settings.model_profile_detect_seconds),
    )
