"""The app factory and the lifespan that owns the shared resources.

app = create_app(Settings(prometheus_url="http://prometheus:9090"))
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from app import __version__
from app.cache import ResponseCache
from app.http import handlers, openapi
from app.http.cache_front import CacheFront, HitCounter
from app.http.cache_middleware import CacheMiddleware
from app.http.slashes import TrailingSlashMiddleware
from app.observability import MetricsMiddleware, ServiceMetrics, exposition
from app.observability.middleware import HandlerLabels
from app.promql.breaker import CircuitBreaker
from app.promql.client import PrometheusClient
from app.routers import health, metrics, pages
from app.services import range_cache
from app.services.health import HealthMonitor
from app.services.range_cache import RangeCache
from app.settings import Settings
from app.state import AppState


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
    )


def build_state(
    settings: Settings, http: httpx.AsyncClient, observability: ServiceMetrics | None = None
) -> AppState:
    # Below the pool size (checked by Settings), so fan-out waits here, not in PoolTimeout.
    semaphore = asyncio.Semaphore(settings.upstream_max_concurrency)
    clients = {
        url: PrometheusClient(
            http,
            url,
            semaphore=semaphore,
            queue_timeout=settings.upstream_queue_timeout_seconds,
            total_timeout=settings.upstream_timeout_seconds,
            breaker=CircuitBreaker(
                threshold=settings.circuit_failure_threshold,
                cooldown=settings.circuit_open_seconds,
            ),
            observer=observability.observe_upstream if observability else None,
        )
        for url in sorted(settings.allowed_prometheus_urls)
    }
    cache = ResponseCache(
        ttl=settings.cache_ttl_seconds,
        stale_seconds=settings.cache_stale_seconds,
        max_entries=settings.cache_max_entries,
        max_bytes=settings.cache_max_bytes,
        on_event=observability.count_cache_event if observability else None,
    )
    for client in clients.values():
        range_cache.attach(
            client,
            RangeCache(
                max_bytes=settings.range_cache_max_bytes,
                settle_seconds=settings.range_cache_settle_seconds,
            ),
        )
    return AppState(
        http=http,
        prometheus=clients,
        default_prometheus=clients[settings.prometheus_url],
        cache=cache,
        health=HealthMonitor.for_settings(settings, http),
    )


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    settings: Settings = app.state.settings
    async with build_http_client(settings, app.state.upstream_transport) as http:
        yield {"app": build_state(settings, http, app.state.observability)}


class ServiceApp(FastAPI):
    """FastAPI with the service's pure-ASGI layers in front of FastAPI's own entry point.

    The layers (slash fix, request metrics, CORS, response cache) run before
    ``FastAPI.__call__``, so a cache hit is answered without FastAPI's per-request work
    (its telemetry check, Starlette's middleware stack, routing, dependencies,
    validation). The outermost, ``CacheFront``, answers fresh hits before the others run
    and counts them as the metrics layer would. A miss enters FastAPI through ``inner``.
    """

    front: ASGIApp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self  # what Starlette sets; the metrics layer reads the routes there
        await self.front(scope, receive, send)

    async def inner(self, scope: Scope, receive: Receive, send: Send) -> None:
        await super().__call__(scope, receive, send)


def create_app(
    settings: Settings | None = None,
    *,
    upstream_transport: httpx.AsyncBaseTransport | None = None,
    metrics_registry: CollectorRegistry | None = None,
) -> FastAPI:
    """Build the service; tests pass explicit settings and may fake the upstream transport.

    ``metrics_registry``: where the service's own metrics go (a fresh one by default).
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
    app.state.upstream_transport = upstream_transport
    app.state.observability = ServiceMetrics(metrics_registry)
    handlers.install(app)
    openapi.install(app)
    app.include_router(metrics.router)
    app.include_router(health.router)
    app.include_router(exposition.router)
    pages.install(app)
    front: ASGIApp = CacheMiddleware(app.inner)
    if settings.cors_allowed_origins:
        front = CORSMiddleware(
            front,
            allow_origins=settings.cors_allowed_origins,
            allow_methods=["GET"],
            allow_headers=["*"],
            expose_headers=["X-Cache", "Age"],
        )
    # Outside the cache (hits are counted), inside the slash fix (one label per route).
    front = MetricsMiddleware(front, metrics=app.state.observability)
    front = TrailingSlashMiddleware(front)
    # Outermost, as in Starlette's own stack: an unexpected error is still a JSON 500.
    front = ServerErrorMiddleware(front, handler=handlers.unexpected_error)
    # Fresh hits are answered before all of the above, and counted like any request.
    app.front = CacheFront(
        front,
        on_hit=hit_counter(app, app.state.observability),
        bypass_header=b"origin" if settings.cors_allowed_origins else None,
    )
    return app


def hit_counter(app: FastAPI, observability: ServiceMetrics) -> HitCounter:
    """Count a hit answered by CacheFront as a request and as a cache hit.

    The metric children are looked up once per path: this runs on every hit.
    """
    labels: list[HandlerLabels] = []
    children: dict[str, tuple[Counter, Histogram]] = {}
    hits = observability.cache_events["hit"]

    def count(path: str, seconds: float) -> None:
        pair = children.get(path)
        if pair is None:
            if not labels:  # on the first hit: by then every router has been included
                labels.append(HandlerLabels.of_routes(app.routes))
            handler = labels[0].label(path)
            pair = children[path] = (
                observability.requests.labels(handler, "GET", "200"),
                observability.request_duration.labels(handler, "GET"),
            )
        pair[0].inc()
        pair[1].observe(seconds)
        hits.inc()

    return count
