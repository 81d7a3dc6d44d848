"""The app factory and the lifespan that owns the shared resources.

app = create_app(Settings(prometheus_url="http://prometheus:9090"))
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager

import httpx
from fastapi import FastAPI
from opentelemetry.sdk.trace.export import SpanExporter
from prometheus_client import CollectorRegistry
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from app import __version__
from app.breaker import CircuitBreaker
from app.cache.core import ResponseCache
from app.cache.layer import HttpCache, query_models
from app.cache.namespace import namespace_of, secret_of
from app.cache.shared import RedisStore
from app.cache.store import LocalStore, ResponseStore, Slots
from app.http import handlers, openapi
from app.http.connection import note_connection
from app.http.cors import ServiceCORSMiddleware
from app.http.headers import DefaultHeadersMiddleware, HeadMiddleware
from app.http.paths import TrailingSlashMiddleware, with_root
from app.http.stream import StreamHub
from app.observability import MetricsMiddleware, ServiceMetrics, exposition
from app.observability.logs import RequestIdMiddleware, send_request_id, timed_upstream
from app.observability.tracing import (
    trace_http_client,
    traced,
    traced_cache_events,
    tracer_provider,
)
from app.profiles.detect import MetricNames
from app.profiles.loader import ProfileRegistry, load_registry
from app.promql.client import PrometheusClient
from app.promql.range_cache import RangeCache, RangeCachedUpstream
from app.promql.redact import RedactingUpstream
from app.promql.screen import ScreeningUpstream
from app.promql.upstream import Upstream
from app.routers import health, metrics, models, pages, stream
from app.schemas.model_queries import ModelsBase
from app.schemas.queries import LatencyQuery
from app.services.health import HealthMonitor
from app.services.kinds import HistogramKinds
from app.services.settled import SettledCache
from app.settings import Settings, public_url
from app.state import AppState, LifespanState

logger = logging.getLogger(__name__)

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
    return httpx.AsyncClient(
        timeout=timeout,
        limits=limits,
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
    settings: Settings, shared: ResponseStore | None, observability: ServiceMetrics | None
) -> ResponseCache:
    """The response cache; the key memo's and the settled answers' bytes come out of
    ``CACHE_MAX_BYTES`` too."""
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
        on_event=traced_cache_events(observability.count_cache_event) if observability else None,
        on_size=observability.cache_entries.set if observability else None,
    )


def build_state(
    settings: Settings,
    http: httpx.AsyncClient,
    observability: ServiceMetrics | None = None,
    shared: ResponseStore | None = None,
    profiles: ProfileRegistry | None = None,
) -> AppState:
    upstreams = build_upstreams(settings, http, observability)
    return AppState(
        settings=settings,
        http=http,
        upstreams=upstreams,
        default_upstream=upstreams[public_url(settings.prometheus_url)],
        cache=build_cache(settings, shared, observability),
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


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[LifespanState]:
    settings: Settings = app.state.settings
    observability: ServiceMetrics = app.state.observability
    async with AsyncExitStack() as stack:
        http = await stack.enter_async_context(
            build_http_client(settings, app.state.upstream_transport)
        )
        provider = app.state.tracer_provider
        if provider is not None:
            trace_http_client(http, provider)
            stack.callback(provider.shutdown)  # the last spans go out before exit
        shared = await stack.enter_async_context(open_shared_store(settings, observability))
        state = build_state(settings, http, observability, shared, app.state.profiles)
        stack.enter_context(state.streams.closing_on_signals())
        stack.enter_context(startup_objects_frozen())
        yield LifespanState(app=state)


@contextmanager
def startup_objects_frozen() -> Iterator[None]:
    """Keep what exists once the service has started (modules, routes, schemas, settings)
    out of the cyclic garbage collector's full collections until shutdown.

    Those run every few requests that parse an answer, and each traversed every object of
    the process again: a third of a miss's CPU at 2,000 models (docs/performance.md).
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class ServiceApp(FastAPI):
    """FastAPI with the service's pure-ASGI layers in front of FastAPI's own entry point.

    ``front`` is the stack ``create_app`` builds (see docs/architecture.md); the HTTP
    cache layer in it answers hits without FastAPI's per-request work (routing,
    dependencies, validation). Everything else enters FastAPI through ``inner``.
    """

    front: ASGIApp
    root_prefix: str = ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self  # what Starlette sets; the metrics layer reads the routes there
        if scope["type"] == "http":
            note_connection(scope, send)  # (live streams ask it; app/http/connection.py)
        with_root(scope, self.root_prefix)
        await self.front(scope, receive, send)

    async def inner(self, scope: Scope, receive: Receive, send: Send) -> None:
        await super().__call__(scope, receive, send)


def create_app(
    settings: Settings | None = None,
    *,
    upstream_transport: httpx.AsyncBaseTransport | None = None,
    metrics_registry: CollectorRegistry | None = None,
    span_exporter: SpanExporter | None = None,
) -> FastAPI:
    """Build the service; tests pass explicit settings and may fake the upstream transport.

    ``metrics_registry``: where the service's own metrics go (a fresh one by default).
    ``span_exporter``: where spans go (tracing on); by default the ``OTEL_*`` settings say.
    """
    settings = settings or Settings()
    app = ServiceApp(
        title="Model Latency API",
        version=__version__,
        description="Per-model latency percentiles from Prometheus histograms, as JSON.",
        lifespan=lifespan,
        redirect_slashes=False,
        # /docs and /redoc are served by app.routers.pages from local assets, not a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    # MODEL_PROFILES_FILE and MODEL_PROFILE are checked here, before anything listens.
    app.state.profiles = load_registry(settings)
    app.state.upstream_transport = upstream_transport
    app.state.observability = ServiceMetrics(metrics_registry)
    handlers.install(app)
    openapi.install(app)
    app.include_router(metrics.router)
    app.include_router(stream.router)
    app.include_router(models.router)
    app.include_router(health.router)
    app.include_router(exposition.router)
    pages.install(app)
    app.front = build_stack(app, settings, app.state.observability)
    app.state.tracer_provider = tracer_provider(settings, span_exporter)
    if app.state.tracer_provider is not None:
        app.front = traced(app.front, app.state.tracer_provider)
    app.root_prefix = settings.root_path
    return app


def build_stack(app: ServiceApp, settings: Settings, observability: ServiceMetrics) -> ASGIApp:
    """The pure-ASGI layers, innermost first; a request meets them in the reverse order.

    The cache layer is outermost but for CORS: a hit is answered before anything else
    runs (it answers HEAD of its routes itself); everything it passes on, renders
    included, goes through the error handler and the metrics layer.
    """
    front: ASGIApp = TrailingSlashMiddleware(app.inner)
    front = MetricsMiddleware(front, metrics=observability)
    # As in Starlette's own stack: an unexpected error is still a JSON 500.
    front = ServerErrorMiddleware(front, handler=handlers.unexpected_error)
    front = HeadMiddleware(front)
    front = HttpCache(
        front,
        routes={**query_models(app.routes, LatencyQuery), **query_models(app.routes, ModelsBase)},
        record=lambda path, status, seconds: observability.observe_request(
            path, "GET", status, seconds
        ),
        in_flight=lambda path: observability.in_progress_for(path, "GET").track_inprogress(),
        vary=b"Origin" if settings.cors_allowed_origins else None,
        memo_bytes=settings.cache_max_bytes // MEMO_SHARE,
    )
    if settings.cors_allowed_origins:
        front = ServiceCORSMiddleware(
            front,
            allow_origins=settings.cors_allowed_origins,
            allow_methods=["GET", "HEAD"],
            allow_headers=["*"],
            expose_headers=["X-Cache", "Age"],
        )
    # Every answer, cache hits and CORS preflights included, gets them.
    front = DefaultHeadersMiddleware(front)
    return RequestIdMiddleware(front)


@asynccontextmanager
async def open_shared_store(
    settings: Settings, observability: ServiceMetrics
) -> AsyncIterator[ResponseStore | None]:
    """The Redis store replicas share when ``SHARED_CACHE_URL`` is set, else None."""
    if settings.shared_cache_url is None:
        yield None
        return
    secret = secret_of(settings)
    if secret is None:
        logger.warning(
            "SHARED_CACHE_SECRET is not set: entries read from the shared cache are "
            "checked but not authenticated, so whoever can write to it can plant answers"
        )
    store = RedisStore(
        settings.shared_cache_url.get_secret_value(),
        slots=Slots(settings.cache_ttl_seconds, settings.cache_stale_seconds),
        # A share of CACHE_MAX_BYTES per key: Redis grows by at most that per question
        # asked in a TTL slot and its stale period (docs/deploy.md#redis).
        max_entry_bytes=settings.cache_max_bytes // MEMO_SHARE,
        prefix=namespace_of(settings),
        op_timeout=settings.shared_cache_timeout_seconds,
        observer=observability.observe_shared_cache,
        secret=secret,
    )
    try:
        yield store
    finally:
        await store.close()
