"""The service answers native histograms exactly as classic ones, with Prometheus's numbers.

A real Prometheus (native histograms on, fed by remote write) holds a native metric, a
classic metric and one metric with both kinds (a migration); the expected numbers are
Prometheus's own ``histogram_quantile`` and, for one model, the quantile of the exact
observations the test generated.
"""

from __future__ import annotations

import math

import httpx
import pytest

from app.promql.builder import SeriesSelector, quantile_query
from app.promql.native import native_quantile_query
from app.settings import Settings
from harness.remote_write import NativePrometheus
from tests.native import data
from tests.native.expected import expected_native_quantile

pytestmark = pytest.mark.prometheus

PERCENTILES = (50.0, 95.0, 99.0)


class Counting(httpx.AsyncBaseTransport):
    """The real network, with every PromQL query the service sent."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.queries: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        form = httpx.QueryParams(request.content.decode())
        if "query" in form:
            self.queries.append(form["query"])
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def engine(server: NativePrometheus, promql: str) -> dict[str, float]:
    """Prometheus's own answer, per model, in milliseconds."""
    return {
        s["metric"]["model"]: 1000 * float(s["value"][1])
        for s in server.query(promql, at=data.EVAL)
    }


def same(ours: float | None, theirs: float | None) -> bool:
    if ours is None or theirs is None or math.isnan(theirs):
        return ours is None and (theirs is None or math.isnan(theirs))
    return ours == pytest.approx(theirs, rel=1e-9, abs=1e-6)


async def get(make_client, server, path: str, transport=None, **params) -> dict:
    settings = Settings(prometheus_url=server.url)
    async with make_client(settings, transport) as client:
        response = await client.get(path, params={"time": data.EVAL, **params})
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_native_metric_answers_with_prometheus_numbers(make_client, native_prometheus):
    body = await get(
        make_client,
        native_prometheus,
        "/api/metrics/percentiles/",
        metric_name=data.NATIVE,
        percentiles="50,95,99",
    )
    assert body["histogram"] == "native"
    assert body["warnings"] == []
    found = {item["model"]: item["percentiles"] for item in body["data"]}
    assert set(found) == {"gpt-4", "llama-3", "negative", data.WEIRD, "quiet"}  # not "gone"
    sel = SeriesSelector(data.NATIVE, "model")
    for p in PERCENTILES:
        theirs = engine(native_prometheus, native_quantile_query(p / 100, sel, data.WINDOW))
        for model, values in found.items():
            assert same(values[f"p{p:g}"], theirs.get(model)), (model, p)
    assert found["quiet"] == {"p50": None, "p95": None, "p99": None}  # traffic stopped


async def test_one_model_equals_the_quantile_of_its_exact_observations(
    make_client, native_prometheus
):
    body = await get(
        make_client, native_prometheus, "/api/metrics/p95/", metric_name=data.NATIVE, model="gpt-4"
    )
    specs = data.specs(data.NATIVE, "gpt-4")
    values = [v for spec in specs for v in spec.window_values()]
    expected = expected_native_quantile(0.95, values, specs[0].schema, specs[0].zero_threshold)
    (item,) = body["data"]
    assert body["histogram"] == "native"
    assert item["p95_latency_ms"] == pytest.approx(1000 * expected, rel=1e-9)


async def test_classic_and_native_side_by_side(make_client, native_prometheus):
    body = await get(make_client, native_prometheus, "/api/metrics/", metric_name=data.CLASSIC)
    assert body["histogram"] == "classic"
    theirs = engine(
        native_prometheus, quantile_query(0.95, SeriesSelector(data.CLASSIC, "model"), 300)
    )
    (item,) = body["data"]
    assert same(item["p95_latency_ms"], theirs["gpt-4"])


async def test_a_metric_with_both_kinds_prefers_native_and_says_so(make_client, native_prometheus):
    auto = await get(make_client, native_prometheus, "/api/metrics/p95/", metric_name=data.MIXED)
    classic = await get(
        make_client,
        native_prometheus,
        "/api/metrics/p95/",
        metric_name=data.MIXED,
        histogram="classic",
    )
    assert auto["histogram"] == "native"
    assert any("classic and native" in w for w in auto["warnings"])
    assert {i["model"] for i in auto["data"]} == {"both", "native-only"}
    assert classic["histogram"] == "classic"
    assert {i["model"] for i in classic["data"]} == {"both", "classic-only"}


async def test_the_range_of_a_native_metric_is_prometheus_range(make_client, native_prometheus):
    start, end = data.EVAL - 600, data.EVAL
    body = await get(
        make_client,
        native_prometheus,
        "/api/metrics/p95/range/",
        metric_name=data.NATIVE,
        model="llama-3",
        start=start,
        end=end,
        step="60s",
    )
    assert body["histogram"] == "native"
    sel = SeriesSelector(data.NATIVE, "model", ("llama-3",))
    (item,) = body["data"]
    for point in item["data_points"]:
        theirs = native_prometheus.query(
            native_quantile_query(0.95, sel, 300), at=point["timestamp"]
        )
        assert same(point["p95_latency_ms"], 1000 * float(theirs[0]["value"][1]))


async def test_the_kind_is_asked_once_per_metric_not_per_request(make_client, native_prometheus):
    transport = Counting()
    settings = Settings(prometheus_url=native_prometheus.url, cache_ttl_seconds=0)
    async with make_client(settings, transport) as client:
        for params in ({"percentiles": "50"}, {"percentiles": "90"}, {"time_range": "10m"}):
            query = {"metric_name": data.NATIVE, "time": str(data.EVAL), **params}
            response = await client.get("/api/metrics/percentiles/", params=query)
            assert response.status_code == 200
    detections = [q for q in transport.queries if "histogram_kind" in q]
    assert len(detections) == 1
    assert len(transport.queries) == 4  # one detection, then one query per request


async def test_several_percentiles_are_one_upstream_query(make_client, native_prometheus):
    transport = Counting()
    await get(
        make_client,
        native_prometheus,
        "/api/metrics/percentiles/",
        transport,
        metric_name=data.NATIVE,
        histogram="native",
        percentiles="50,90,95,99,99.9",
    )
    assert len(transport.queries) == 1
