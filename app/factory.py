"""The app factory: the FastAPI app, its routers and the pure-ASGI stack in front.

The lifespan that opens the shared resources is ``app/lifespan.py``; what it builds
from the settings, ``app/builders.py``.

app = create_app(Settings(prometheus_url="http://prometheus:9090"))
"""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from opentelemetry.sdk.trace.export import SpanExporter
from prometheus_client import CollectorRegistry
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from app import __version__
from app.builders import MEMO_SHARE
from app.cache.endpoints import cacheable_routes
from app.cache.layer import HttpCache
from app.deps import FROM_SCOPE
from app.http import handlers, openapi
from app.http.connection import note_connection
from app.http.cors import ServiceCORSMiddleware
from app.http.headers import HeadMiddleware, with_security_headers
from app.http.paths import TrailingSlashMiddleware, with_root
from app.lifespan import lifespan
from app.observability import MetricsMiddleware, ServiceMetrics, exposition
from app.observability.logs import RequestIdMiddleware
from app.observability.tracing import (
    traced,
    tracer_provider,
)
from app.profiles.loader import load_registry
from app.routers import health, metrics, models, pages, stream
from app.schemas.model_queries import ModelsBase
from app.schemas.queries import LatencyQuery
from app.settings import Settings


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
        routes={
            **cacheable_routes(app.routes, LatencyQuery, FROM_SCOPE),
            **cacheable_routes(app.routes, ModelsBase, FROM_SCOPE),
        },
        record=lambda path, status: observability.answered(path, "GET", status),
        translate=handlers.translated,
        in_flight=lambda path: observability.in_progress_for(path, "GET").track_inprogress(),
        vary=b"Origin" if settings.cors_allowed_origins else None,
        memo_bytes=settings.cache_max_bytes // MEMO_SHARE,
        # CORS, between here and the outermost layer, changes headers per request.
        finish=list if settings.cors_allowed_origins else with_security_headers,
    )
    if settings.cors_allowed_origins:
        front = ServiceCORSMiddleware(
            front,
            allow_origins=settings.cors_allowed_origins,
            allow_methods=["GET", "HEAD"],
            allow_headers=["*"],
            expose_headers=["X-Cache", "Age"],
        )
    # Every answer, cache hits and CORS preflights included, gets the shared headers.
    return RequestIdMiddleware(front, finish=with_security_headers)
