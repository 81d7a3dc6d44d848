"""OpenTelemetry traces: a span per request and per upstream query, ``traceparent`` sent.

The service runs in-process with an in-memory span exporter in front of a recording
stand-in for Prometheus on a real socket: a miss makes a server span with
``cache.result=miss`` and a client span per upstream query, children of it, whose ids
are the ``traceparent`` the engine received; the hit that follows is a span with
``cache.result=hit`` and no upstream span. Off by default; on with the ``OTEL_*``
settings, exporting over OTLP/HTTP to the endpoint named.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest
from asgi_lifespan import LifespanManager
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from app.factory import create_app
from app.settings import Settings
from tests.support.fake_prometheus import FakeUpstream, Steady

P95 = "/api/metrics/p95/"


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream(data=Steady(), html_status=500) as running:
        yield running


@asynccontextmanager
async def client_for(
    settings: Settings, exporter: InMemorySpanExporter | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, span_exporter=exporter)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


def settings_for(upstream: FakeUpstream, **extra: object) -> Settings:
    return Settings(prometheus_url=f"http://127.0.0.1:{upstream.port}", **extra)  # type: ignore[arg-type]


async def test_a_miss_and_a_hit_are_spans_and_the_engine_gets_the_traceparent(upstream):
    exporter = InMemorySpanExporter()
    # One TTL slot: the two requests never straddle a boundary.
    async with client_for(settings_for(upstream, cache_ttl_seconds=3600), exporter) as client:
        miss = await client.get(P95, params={"time_range": "7m"})
        hit = await client.get(P95, params={"time_range": "7m"})
    assert [miss.headers["x-cache"], hit.headers["x-cache"]] == ["MISS", "HIT"]
    spans = exporter.get_finished_spans()
    servers = [s for s in spans if s.kind == SpanKind.SERVER]
    assert [s.name for s in servers] == [f"GET {P95}", f"GET {P95}"]
    assert [(s.attributes or {})["cache.result"] for s in servers] == ["miss", "hit"]
    assert all((s.attributes or {})["http.route"] == P95 for s in servers)
    miss_span, hit_span = servers
    clients = [s for s in spans if s.kind == SpanKind.CLIENT]
    assert clients, "no span for the upstream queries"
    for span in clients:
        assert span.context.trace_id == miss_span.context.trace_id
        assert span.parent is not None
    assert not [s for s in clients if s.context.trace_id == hit_span.context.trace_id]
    sent = {r.headers["traceparent"] for r in upstream.requests if "traceparent" in r.headers}
    expected = {
        f"00-{s.context.trace_id:032x}-{s.context.span_id:016x}-{s.context.trace_flags:02x}"
        for s in clients
    }
    assert sent == expected
    assert len(upstream.requests) == len(clients)  # one span per upstream query


def status_of(span) -> int:
    """The status code under the stable or the older semantic-convention name."""
    attributes = span.attributes
    return attributes.get("http.response.status_code", attributes.get("http.status_code"))


async def test_an_upstream_error_is_on_the_spans(upstream):
    exporter = InMemorySpanExporter()
    upstream.mode = "html"
    async with client_for(settings_for(upstream, cache_stale_seconds=0), exporter) as client:
        response = await client.get(P95)
    assert response.status_code == 502
    spans = exporter.get_finished_spans()
    [server] = [s for s in spans if s.kind == SpanKind.SERVER]
    assert status_of(server) == 502
    assert (server.attributes or {})["cache.result"] == "miss"
    assert {status_of(s) for s in spans if s.kind == SpanKind.CLIENT} == {500}


async def test_tracing_is_off_by_default(upstream):
    app = create_app(settings_for(upstream))
    assert app.state.tracer_provider is None
    async with client_for(settings_for(upstream)) as client:
        assert (await client.get(P95)).status_code == 200
    assert upstream.requests
    assert not [r for r in upstream.requests if "traceparent" in r.headers]


async def test_otel_settings_export_spans_over_otlp_http(upstream):
    """OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_SERVICE_NAME, as the environment gives them;
    the stand-in records the export as a collector would receive it."""
    with FakeUpstream(data=Steady(), html_status=500) as collector:
        settings = Settings(
            OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{collector.port}",
            OTEL_SERVICE_NAME="latency-api-test",
            PROMETHEUS_URL=f"http://127.0.0.1:{upstream.port}",
        )
        async with client_for(settings) as client:
            assert (await client.get(P95)).status_code == 200
        # the lifespan's end flushed the batch
        exports = [r for r in collector.requests if r.path == "/v1/traces"]
    assert exports, collector.requests
    assert exports[0].headers["content-type"] == "application/x-protobuf"
    request = ExportTraceServiceRequest.FromString(exports[0].body)
    resource = request.resource_spans[0].resource
    names = [a.value.string_value for a in resource.attributes if a.key == "service.name"]
    assert names == ["latency-api-test"]
    spans = [s.name for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans]
    assert f"GET {P95}" in spans
