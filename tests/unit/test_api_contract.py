"""The HTTP contract with a fake upstream: validation, errors, slashes, cache headers."""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

import httpx
import pytest

from app.http.paths import canonical_path
from app.settings import Settings
from tests.support.fake_prometheus import (
    form_of,
    is_kind_probe,
    matrix,
    quantile_samples,
    vector,
)
from tests.support.histograms import expected_quantile

URL = "http://prometheus.test"


class FakePrometheus:
    """Answers every instant query with one sample per model; records what it was asked."""

    def __init__(self, delay: float = 0.0) -> None:
        self.requests: list[httpx.Request] = []
        self.delay = delay

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if is_kind_probe(request):  # asked once per metric; not what these tests count
            return vector([])
        self.requests.append(request)
        if self.delay:
            await asyncio.sleep(self.delay)
        if request.url.path.endswith("query_range"):
            return matrix([{"metric": {"model": "a"}, "values": [[1700000000, "0.1"]]}])
        query = form_of(request)["query"]
        return vector(quantile_samples(query, bucket_rates()) or bucket_rates())

    def queries(self) -> list[str]:
        return [dict(httpx.QueryParams(r.content.decode()))["query"] for r in self.requests]


BOUNDS = (0.1, 0.2)
COUNTS = {"b": (0.0, 4.0, 0.0), "a": (3.0, 1.0, 0.0)}  # per bucket, +Inf last


def bucket_rates() -> list[dict[str, Any]]:
    """Cumulative per-model bucket rates, as `sum by (model, le) (rate(...))` returns them."""
    samples = []
    for model, counts in COUNTS.items():
        total = 0.0
        for le, count in zip([*map(str, BOUNDS), "+Inf"], counts, strict=True):
            total += count
            samples.append(
                {"metric": {"model": model, "le": le}, "value": [1700000000, str(total)]}
            )
    return samples


@pytest.fixture
def fake() -> FakePrometheus:
    return FakePrometheus()


@pytest.fixture
def settings() -> Settings:
    return Settings(prometheus_url=URL, cache_ttl_seconds=30)


ENDPOINTS = [
    "/api/metrics/",
    "/api/metrics/p95/",
    "/api/metrics/p95/range/",
    "/api/metrics/percentiles/",
    "/api/metrics/history/",
]


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_with_and_without_trailing_slash_answer_200_directly(path, make_client, settings):
    async with make_client(settings, httpx.MockTransport(FakePrometheus())) as client:
        for variant in (path, path.rstrip("/")):
            response = await client.get(variant)
            assert response.status_code == 200, variant
            assert response.json()["status"] == "success"


@pytest.mark.parametrize(
    ("path", "params", "bad"),
    [
        ("/api/metrics/p95/", {"time_range": "5 minutes"}, ["time_range"]),
        ("/api/metrics/p95/", {"time_range": "0s"}, ["time_range"]),
        ("/api/metrics/p95/", {"metric_name": 'up"}'}, ["metric_name"]),
        ("/api/metrics/p95/", {"model_label": "mo-del"}, ["model_label"]),
        ("/api/metrics/p95/", {"time": "noon"}, ["time"]),
        ("/api/metrics/percentiles/", {"percentiles": "50,100"}, ["percentiles"]),
        ("/api/metrics/percentiles/", {"percentiles": ",".join(["1"] * 11)}, ["percentiles"]),
        ("/api/metrics/p95/range/", {"step": "-1m"}, ["step"]),
        ("/api/metrics/p95/range/", {"step": "0s"}, ["step"]),
        ("/api/metrics/p95/range/", {"duration": "30d", "step": "1s"}, ["step"]),
        ("/api/metrics/p95/range/", {"start": "2000", "end": "1000"}, ["start"]),
        ("/api/metrics/history/", {"hours": "0"}, ["hours"]),
        ("/api/metrics/history/", {"hours": "lots"}, ["hours"]),
        (
            "/api/metrics/p95/",
            {"metric_name": "1x", "time_range": "x"},
            ["metric_name", "time_range"],
        ),
    ],
)
async def test_bad_input_is_a_400_naming_each_parameter(
    path, params, bad, make_client, settings, fake
):
    async with make_client(settings, httpx.MockTransport(fake)) as client:
        response = await client.get(path, params=params)
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "error"
    assert all(name in body["error"] for name in bad)
    assert fake.requests == []


async def test_prometheus_url_outside_the_allow_list_is_refused_without_connecting(
    make_client, fake
):
    settings = Settings(prometheus_url=URL, prometheus_allowed_urls="http://other.test:9090/")
    async with make_client(settings, httpx.MockTransport(fake)) as client:
        refused = await client.get(
            "/api/metrics/p95/", params={"prometheus_url": "http://evil.test"}
        )
        allowed = await client.get(
            "/api/metrics/p95/", params={"prometheus_url": "http://other.test:9090"}
        )
    assert refused.status_code == 400
    assert "prometheus_url" in refused.json()["error"]
    assert allowed.status_code == 200
    assert [r.url.host for r in fake.requests] == ["other.test"]


async def test_unknown_path_is_a_json_404(make_client, settings, fake):
    async with make_client(settings, httpx.MockTransport(fake)) as client:
        response = await client.get("/api/nothing/here")
    assert response.status_code == 404
    assert response.json()["status"] == "error"


async def test_models_sorted_and_count_matches(make_client, settings, fake):
    async with make_client(settings, httpx.MockTransport(fake)) as client:
        body = (await client.get("/api/metrics/p95/")).json()
    assert [item["model"] for item in body["data"]] == ["a", "b"]
    assert body["count"] == len(body["data"]) == 2
    expected = [expected_quantile(0.95, BOUNDS, COUNTS[m]) for m in ("a", "b")]
    assert [item["p95_latency_ms"] for item in body["data"]] == [
        pytest.approx(1000 * q) for q in expected if q is not None
    ]


def seconds_left_in_slot(ttl: float) -> int:
    now = time.time()
    return math.ceil((now // ttl + 1) * ttl - now)


async def test_cache_hit_miss_headers_and_one_upstream_query(make_client, settings, fake):
    async with make_client(settings, httpx.MockTransport(fake)) as client:
        before = seconds_left_in_slot(settings.cache_ttl_seconds)
        first = await client.get("/api/metrics/p95/?time_range=10m&model=a")
        second = await client.get("/api/metrics/p95?model=a&time_range=10m&_=1700000000")
        after = seconds_left_in_slot(settings.cache_ttl_seconds)
        other = await client.get("/api/metrics/p95/?time_range=15m&model=a")
    assert first.headers["x-cache"] == "MISS"
    # A MISS and a HIT both say how long the answer stays fresh: the rest of its TTL slot.
    miss_age = int(first.headers["cache-control"].removeprefix("max-age="))
    assert after <= miss_age <= before or before < after  # (a slot boundary in between)
    assert second.headers["x-cache"] == "HIT"  # a cache-buster parameter is not in the key
    assert 0 < int(second.headers["cache-control"].removeprefix("max-age=")) <= miss_age
    assert second.content == first.content
    assert other.headers["x-cache"] == "MISS"
    assert len(fake.requests) == 2


async def test_errors_are_not_cached(make_client, settings):
    calls = 0

    def down(_request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        raise httpx.ConnectError("refused")

    async with make_client(settings, httpx.MockTransport(down)) as client:
        for _ in range(2):
            response = await client.get("/api/metrics/p95/")
            assert response.status_code == 503
            assert response.headers["cache-control"] == "no-store"
    assert calls == 2


async def test_concurrent_identical_misses_share_one_query(make_client, settings):
    slow = FakePrometheus(delay=0.2)
    async with make_client(settings, httpx.MockTransport(slow)) as client:
        responses = await asyncio.gather(*(client.get("/api/metrics/p95/") for _ in range(50)))
    assert {r.status_code for r in responses} == {200}
    assert len(slow.requests) == 1
    assert len({r.content for r in responses}) == 1


async def test_a_client_that_gives_up_does_not_cancel_the_query_for_others(make_client, settings):
    slow = FakePrometheus(delay=0.3)
    async with make_client(settings, httpx.MockTransport(slow)) as client:
        impatient = asyncio.create_task(client.get("/api/metrics/p95/"))
        patient = asyncio.create_task(client.get("/api/metrics/p95/"))
        await asyncio.sleep(0.05)
        impatient.cancel()
        response = await patient
        again = await client.get("/api/metrics/p95/")
    assert response.status_code == 200
    assert again.headers["x-cache"] == "HIT"
    assert len(slow.requests) == 1


async def test_openapi_declares_error_responses(make_client, settings, fake):
    async with make_client(settings, httpx.MockTransport(fake)) as client:
        spec = (await client.get("/openapi.json")).json()
    for path in ENDPOINTS:
        responses = spec["paths"][path]["get"]["responses"]
        assert {"200", "400", "502", "503", "504"} <= set(responses), path
        assert "422" not in responses, path


async def test_cors_origins_are_configurable(make_client, fake):
    settings = Settings(prometheus_url=URL, cors_allowed_origins="http://localhost:3000")
    async with make_client(settings, httpx.MockTransport(fake)) as client:
        allowed = await client.get("/api/metrics/p95/", headers={"Origin": "http://localhost:3000"})
        other = await client.get("/api/metrics/p95/", headers={"Origin": "http://evil.test"})
    assert allowed.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert "access-control-allow-origin" not in other.headers


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("/api/metrics/p95", "/api/metrics/p95/"),
        ("/api/metrics/p95/", "/api/metrics/p95/"),
        ("/health/ready/", "/health/ready"),
        ("/health/", "/health"),
        ("/", "/"),
        ("/docs/", "/docs"),
    ],
)
def test_canonical_paths(raw, canonical):
    assert canonical_path(raw) == canonical


async def test_health_paths_answer_with_a_trailing_slash_too(make_client, settings, fake):
    async with make_client(settings, httpx.MockTransport(fake)) as client:
        response = await client.get("/health/live/")
    assert response.status_code == 200
