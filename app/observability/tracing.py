"""OpenTelemetry traces: off unless the standard ``OTEL_*`` variables switch them on.

On, every HTTP request is a server span named by its route template (cache hits
included: the instrumentation wraps the whole front stack, not only FastAPI's inner
one), with the response cache's verdict as the ``cache.result`` attribute (``hit``,
``miss``, ``coalesced``, ``stale``); every upstream query is a client span of the httpx
instrumentation, which sends ``traceparent`` to the engine.

Switched on by ``OTEL_TRACES_EXPORTER=otlp`` (or ``console``), or by
``OTEL_EXPORTER_OTLP_ENDPOINT`` alone; ``OTEL_SERVICE_NAME`` names the service
(``SERVICE_NAME`` otherwise). Spans go out over OTLP/HTTP in batches.

    provider = tracer_provider(settings)          # None: tracing is off
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from starlette.types import ASGIApp, Scope

from app.http.paths import route_path
from app.observability.middleware import HandlerLabels
from app.settings import Settings

CACHE_ATTRIBUTE = "cache.result"
TRACES_PATH = "/v1/traces"  # what the spec appends to OTEL_EXPORTER_OTLP_ENDPOINT


def tracing_wanted(settings: Settings) -> bool:
    exporter = settings.otel_traces_exporter
    if exporter:
        return exporter != "none"
    return bool(settings.otel_exporter_otlp_endpoint)


def tracer_provider(
    settings: Settings, exporter: SpanExporter | None = None
) -> TracerProvider | None:
    """The provider the service's spans go to; None when tracing is off. ``exporter``
    (tests: an in-memory one) switches tracing on and exports each span at once."""
    processor: SpanProcessor
    if exporter is not None:
        processor = SimpleSpanProcessor(exporter)
    elif tracing_wanted(settings):
        processor = BatchSpanProcessor(_exporter(settings))
    else:
        return None
    name = settings.otel_service_name or settings.service_name
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    provider.add_span_processor(processor)
    return provider


def _exporter(settings: Settings) -> SpanExporter:
    if settings.otel_traces_exporter == "console":
        return ConsoleSpanExporter()
    endpoint = settings.otel_exporter_otlp_endpoint
    # Without an endpoint the exporter reads its own variables (and defaults to localhost).
    return OTLPSpanExporter(endpoint=endpoint.rstrip("/") + TRACES_PATH if endpoint else None)


def traced(front: ASGIApp, provider: TracerProvider) -> ASGIApp:
    """``front`` inside OpenTelemetry's ASGI instrumentation (the one its FastAPI
    instrumentation installs inside Starlette's stack, where cache hits never arrive)."""
    return OpenTelemetryMiddleware(
        front,
        default_span_details=_span_details(),
        tracer_provider=provider,
        exclude_spans=["receive", "send"],
    )


def _span_details() -> Callable[[Scope], tuple[str, dict[str, Any]]]:
    labels: list[HandlerLabels] = []

    def details(scope: Scope) -> tuple[str, dict[str, Any]]:
        if not labels:  # built on the first request: by then every router is included
            labels.append(HandlerLabels.of_routes(getattr(scope.get("app"), "routes", [])))
        route = labels[0].label(route_path(scope))
        return f"{scope.get('method', 'HTTP')} {route}", {"http.route": route}

    return details


def trace_http_client(http: httpx.AsyncClient, provider: TracerProvider) -> None:
    """A client span per upstream query, with ``traceparent`` sent to the engine."""
    HTTPXClientInstrumentor().instrument_client(http, tracer_provider=provider)


def traced_cache_events(count: Callable[[str], None]) -> Callable[[str], None]:
    """``ResponseCache``'s on_event hook, also marking the request's span (a no-op when
    tracing is off: the current span is then the invalid one)."""

    def on_event(event: str) -> None:
        count(event)
        trace.get_current_span().set_attribute(CACHE_ATTRIBUTE, event)

    return on_event
