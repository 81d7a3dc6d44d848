"""The request metrics middleware and the upstream/cache hooks, each on a fresh registry."""

from __future__ import annotations

import asyncio
import random
import string

import httpx
import pytest
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from app.observability import MetricsMiddleware, ServiceMetrics
from app.observability.middleware import HandlerLabels, method_label
from app.services import latency
from tests.observability.conftest import FakePrometheus, fake_settings, serve

P95 = "/api/metrics/p95/"


def test_it_is_pure_asgi():
    assert not issubclass(MetricsMiddleware, BaseHTTPMiddleware)


async def test_requests_are_counted_under_the_route_template(fake):
    # A long TTL, so every request after the first is a hit whatever the machine's speed.
    async with serve(fake_settings(cache_ttl_seconds=3600), httpx.MockTransport(fake)) as svc:
        paths = ["/api/metrics/p95", "/api/metrics/p95/", "/api/metrics/p95?time=1"]
        statuses = [(await svc.client.get(path)).status_code for path in paths * 2]
    assert statuses == [200] * 6
    assert svc.value("http_requests_total", handler=P95, method="GET", status="200") == 6
    assert svc.value("http_request_duration_seconds_count", handler=P95, method="GET") == 6
    assert svc.value("http_request_duration_seconds_sum", handler=P95, method="GET") > 0
    assert svc.value("http_requests_in_progress", handler=P95, method="GET") == 0


async def test_cache_hits_are_counted_though_answered_before_routing(fake):
    async with serve(fake_settings(cache_ttl_seconds=3600), httpx.MockTransport(fake)) as svc:
        for _ in range(5):
            response = await svc.client.get("/api/metrics/p95/")
        assert response.headers["x-cache"] == "HIT"
        await svc.client.get("/api/metrics/p95/?model=alpha")
    assert svc.value("model_latency_cache_misses_total") == 2
    assert svc.value("model_latency_cache_hits_total") == 4
    assert svc.value("model_latency_cache_coalesced_total") == 0
    assert svc.value("model_latency_cache_entries") == 2
    assert svc.value("http_requests_total", handler=P95, method="GET", status="200") == 6


async def test_concurrent_identical_requests_count_as_coalesced():
    gate = asyncio.Event()

    async def held(request: httpx.Request) -> httpx.Response:
        await gate.wait()
        return await FakePrometheus()(request)

    async with serve(fake_settings(cache_ttl_seconds=3600), httpx.MockTransport(held)) as svc:
        tasks = [asyncio.create_task(svc.client.get(P95)) for _ in range(4)]
        for _ in range(200):  # bounded: until all four are inside the app
            if svc.value("http_requests_in_progress", handler=P95, method="GET") == 4:
                break
            await asyncio.sleep(0.01)
        in_flight = svc.value("http_requests_in_progress", handler=P95, method="GET")
        gate.set()
        responses = await asyncio.gather(*tasks)
    assert in_flight == 4
    assert [r.status_code for r in responses] == [200] * 4
    assert svc.value("model_latency_cache_misses_total") == 1
    assert svc.value("model_latency_cache_coalesced_total") == 3
    assert svc.value("http_requests_in_progress", handler=P95, method="GET") == 0


async def test_a_thousand_random_paths_share_one_series(fake):
    rng = random.Random(7)
    paths = [
        "/" + "/".join("".join(rng.choices(string.ascii_lowercase, k=8)) for _ in range(2))
        for _ in range(1000)
    ]
    paths += [f"/api/{p}" for p in ("nope", "metrics/p96", "health/x")]
    async with serve(fake_settings(), httpx.MockTransport(fake)) as svc:
        for path in paths:
            assert (await svc.client.get(path)).status_code == 404
    assert svc.label_values("http_requests_total", "handler") == {"unmatched"}
    assert svc.value("http_requests_total", handler="unmatched", method="GET", status="404") == 1003
    assert svc.label_values("http_request_duration_seconds_count", "handler") == {"unmatched"}


async def test_status_labels_are_the_numeric_codes():
    async with serve(fake_settings(), httpx.MockTransport(FakePrometheus("down"))) as svc:
        bad = await svc.client.get("/api/metrics/p95/?time_range=5%20min")
        down = await svc.client.get("/api/metrics/p95/")
        await svc.client.get("/health/live")
    assert (bad.status_code, down.status_code) == (400, 503)
    assert svc.label_values("http_requests_total", "status") == {"400", "503", "200"}
    assert svc.value("http_requests_total", handler=P95, method="GET", status="503") == 1
    assert svc.value("http_requests_total", handler="/health/live", method="GET", status="200") == 1


async def test_invented_methods_share_the_label_other(fake):
    async with serve(fake_settings(), httpx.MockTransport(fake)) as svc:
        for method in ("BREW", "WHEN", "GET"):
            await svc.client.request(method, "/health/live")
    assert svc.label_values("http_requests_total", "method") == {"other", "GET"}
    assert (
        svc.value("http_requests_total", handler="/health/live", method="other", status="405") == 2
    )


def test_method_label():
    assert [method_label(m) for m in ("GET", "HEAD", "OPTIONS", "get", "X")] == [
        "GET",
        "HEAD",
        "OPTIONS",
        "other",
        "other",
    ]


async def test_an_exception_in_the_app_is_counted_as_500():
    async def boom(_request):
        raise RuntimeError("bug")

    metrics = ServiceMetrics(CollectorRegistry())
    app = Starlette(routes=[Route("/boom", boom)])
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/boom")
    assert response.status_code == 500
    labels = {"handler": "/boom", "method": "GET", "status": "500"}
    assert metrics.registry.get_sample_value("http_requests_total", labels) == 1
    gauge = {"handler": "/boom", "method": "GET"}
    assert metrics.registry.get_sample_value("http_requests_in_progress", gauge) == 0


async def test_a_bug_in_a_cacheable_endpoint_is_a_json_500_counted_and_not_kept(
    fake, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    """The cache layer calls the endpoint itself on a miss: an unexpected exception
    there gets the unexpected-error handler's answer, as through FastAPI."""

    async def bug(*_args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(latency, "current_p95", bug)
    async with serve(fake_settings(cache_ttl_seconds=3600), httpx.MockTransport(fake)) as svc:
        answers = [await svc.client.get(P95) for _ in range(2)]
    for answer in answers:
        assert answer.status_code == 500
        assert answer.json() == {"status": "error", "error": "Internal error", "details": {}}
        assert answer.headers["x-cache"] == "MISS"
    assert svc.value("model_latency_cache_misses_total") == 2  # not kept
    assert svc.value("http_requests_total", handler=P95, method="GET", status="500") == 2
    logged = [record for record in caplog.records if record.name == "app.errors"]
    assert len(logged) == 2
    assert all(record.exc_info and record.exc_info[0] is RuntimeError for record in logged)


def test_handler_labels_know_templates_mounts_and_nothing_else():
    async def ok(_request):
        return PlainTextResponse("ok")

    labels = HandlerLabels.of_routes(
        [Route("/items/{item_id:int}", ok), Route("/plain", ok), Mount("/static", routes=[])]
    )
    assert labels.label("/plain") == "/plain"
    assert labels.label("/items/42") == "/items/{item_id:int}"
    assert labels.label("/static/app.css") == "/static"
    assert labels.label("/staticx") == "unmatched"
    assert labels.label("/plain/") == "unmatched"


async def test_routes_are_read_through_included_routers(fake):
    async with serve(fake_settings(), httpx.MockTransport(fake)) as svc:
        for path in ("/health/live", "/api/health", "/metrics", "/openapi.json"):
            await svc.client.get(path)
    assert svc.label_values("http_requests_total", "handler") == {
        "/health/live",
        "/api/health/",
        "/metrics",
        "/openapi.json",
    }


@pytest.mark.parametrize(
    ("mode", "outcome"),
    [("ok", "success"), ("down", "unreachable"), ("error500", "error")],
)
async def test_upstream_calls_are_counted_by_outcome(mode, outcome):
    fake = FakePrometheus(mode)
    settings = fake_settings(cache_ttl_seconds=0, cache_stale_seconds=0)
    async with serve(settings, httpx.MockTransport(fake)) as svc:
        await svc.client.get("/api/metrics/p95/")
        await svc.client.get("/api/metrics/p95/?model=beta")
    query_calls = sum(1 for path in fake.calls if path.startswith("/api/v1/"))
    assert query_calls >= 2
    assert svc.value("model_latency_upstream_queries_total", outcome=outcome) == query_calls
    count = svc.value("model_latency_upstream_query_duration_seconds_count", outcome=outcome)
    assert count == query_calls
    others = {"success", "error", "timeout", "unreachable", "overloaded"} - {outcome}
    assert all(svc.value("model_latency_upstream_queries_total", outcome=o) == 0 for o in others)


async def test_an_upstream_timeout_is_counted_as_timeout():
    fake = FakePrometheus("slow", delay=5)
    settings = fake_settings(
        cache_ttl_seconds=0,
        cache_stale_seconds=0,
        upstream_timeout_seconds=0.2,
        upstream_connect_timeout_seconds=0.1,
    )
    async with serve(settings, httpx.MockTransport(fake)) as svc:
        response = await svc.client.get("/api/metrics/p95/")
    assert response.status_code == 504
    assert svc.value("model_latency_upstream_queries_total", outcome="timeout") == 1


async def test_health_probes_are_not_counted_as_clients_queries(fake):
    async with serve(fake_settings(), httpx.MockTransport(fake)) as svc:
        for path in ("/health", "/health/ready", "/api/health/"):
            assert (await svc.client.get(path)).status_code == 200
    assert fake.calls  # the probes did reach Prometheus
    total = sum(
        svc.value("model_latency_upstream_queries_total", outcome=o)
        for o in ("success", "error", "timeout", "unreachable", "overloaded")
    )
    assert total == 0


def test_hooks_ignore_unknown_events_and_map_unknown_outcomes_to_error():
    metrics = ServiceMetrics(CollectorRegistry())
    metrics.count_cache_event("evicted")
    metrics.observe_upstream("weird", 0.5)
    metrics.count_cache_event("stale")
    registry = metrics.registry
    assert registry.get_sample_value("model_latency_upstream_queries_total", {"outcome": "error"})
    assert registry.get_sample_value("model_latency_cache_stale_total") == 1
    outcomes = {
        s.labels["outcome"]
        for family in registry.collect()
        for s in family.samples
        if s.name == "model_latency_upstream_queries_total"
    }
    assert outcomes == {"success", "error", "timeout", "unreachable", "overloaded"}


async def test_each_app_has_its_own_registry(fake):
    async with serve(fake_settings(), httpx.MockTransport(fake)) as first:
        await first.client.get("/health/live")
        async with serve(fake_settings(), httpx.MockTransport(fake)) as second:
            await second.client.get("/health/live")
            await second.client.get("/health/live")
    labels = {"handler": "/health/live", "method": "GET", "status": "200"}
    assert first.value("http_requests_total", **labels) == 1
    assert second.value("http_requests_total", **labels) == 2
