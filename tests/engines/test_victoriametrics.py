"""The service against a real single-node VictoriaMetrics, through its ``/prometheus`` prefix.

Expected numbers are VictoriaMetrics's own ``histogram_quantile`` answers to the same
question, asked directly: the service must report what the engine says (the engine's
``rate`` does not extrapolate as Prometheus's does, so its numbers are its own).

One difference from Prometheus shows here: VictoriaMetrics drops NaN results, where
Prometheus returns them as ``"NaN"``. A model with no traffic in the window has a NaN
quantile. The instant endpoints compute quantiles in the service from the bucket rates,
which VictoriaMetrics does return (zeros), so such a model is listed with ``null``, as
with Prometheus. The range endpoints pass the engine's ``histogram_quantile`` series on,
so there the model's idle points are missing instead of ``null`` (and a model idle over
the whole window has no series at all). docs/engines.md lists this.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from app.promql.durations import parse_duration
from app.settings import Settings
from harness.victoria import VictoriaMetricsServer
from tests.support.dataset import BEGIN, CHANGE, END, QUIET_AFTER, WEIRD

TENANT = {"X-Scope-OrgID": "team-a"}
SECONDS = "request_duration_seconds"
ALL_MODELS = sorted(["gpt-4", "llama-3", WEIRD, "quiet", "overflow", "other-job"])


def quantile_promql(q: float, window: str = "5m") -> str:
    rates = f"sum by (model, le) (rate({SECONDS}_bucket[{window}]))"
    return f"histogram_quantile({q}, {rates})"


async def engine_post(url: str, **form: object) -> httpx.Response:
    async with httpx.AsyncClient(headers=TENANT, timeout=10, trust_env=False) as engine:
        return await engine.post(url, data=form)


async def ask_engine(vm: VictoriaMetricsServer, path: str, **form: object) -> dict[str, Any]:
    response = await engine_post(vm.prometheus_url + path, **form)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == "success"
    return body["data"]


def ms(value: str) -> float:
    """An engine's sample, in milliseconds as the service rounds them."""
    return round(float(value) * 1000, 6)


async def engine_instant(vm: VictoriaMetricsServer, promql: str, at: float) -> dict[str, float]:
    data = await ask_engine(vm, "/api/v1/query", query=promql, time=at)
    assert data["resultType"] == "vector"
    return {item["metric"]["model"]: ms(item["value"][1]) for item in data["result"]}


async def engine_range(
    vm: VictoriaMetricsServer, promql: str, start: float, end: float, step: float
) -> dict[str, dict[float, float]]:
    data = await ask_engine(
        vm, "/api/v1/query_range", query=promql, start=start, end=end, step=step
    )
    assert data["resultType"] == "matrix"
    return {
        item["metric"]["model"]: {float(t): ms(v) for t, v in item["values"]}
        for item in data["result"]
    }


def engine_or_null(answers: dict[str, float], models: list[str]) -> dict[str, float | None]:
    """Per model, the engine's answer, or null where it dropped a NaN result."""
    return {model: answers.get(model) for model in models}


def points(series: dict[str, Any], key: str = "timestamp") -> dict[float, float | None]:
    def stamp(value: Any) -> float:
        return datetime.fromisoformat(value).timestamp() if isinstance(value, str) else value

    return {stamp(p[key]): p["p95_latency_ms"] for p in series["data_points"]}


@pytest.fixture
def settings(victoria: VictoriaMetricsServer) -> Settings:
    return Settings(
        prometheus_url=victoria.prometheus_url, prometheus_headers=TENANT, cache_ttl_seconds=0
    )


async def get_json(make_client, settings: Settings, path: str, **params: object) -> Any:
    async with make_client(settings) as client:
        response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("prefix", ["/prometheus", ""], ids=["prefixed", "root"])
async def test_p95_equals_the_engines_histogram_quantile(make_client, victoria, prefix):
    settings = Settings(prometheus_url=victoria.url + prefix, prometheus_headers=TENANT)
    body = await get_json(make_client, settings, "/api/metrics/p95/", time=END)
    found = {item["model"]: item["p95_latency_ms"] for item in body["data"]}
    engine = await engine_instant(victoria, quantile_promql(0.95), END)
    # One percentile is the engine's own histogram_quantile: VictoriaMetrics drops the
    # NaN of a model without traffic, so that model is absent here (as on range answers),
    # where Prometheus gives it null (docs/engines.md).
    assert found == engine
    assert sorted(set(ALL_MODELS) - set(found)) == ["quiet"]
    assert body["partial"] is False


async def test_summary_p50_p95_p99_equal_the_engines(make_client, victoria, settings):
    body = await get_json(make_client, settings, "/api/metrics/", time=END, time_range="10m")
    assert sorted(item["model"] for item in body["data"]) == ALL_MODELS
    for key, q in (("p50_latency_ms", 0.5), ("p95_latency_ms", 0.95), ("p99_latency_ms", 0.99)):
        engine = await engine_instant(victoria, quantile_promql(q, "10m"), END)
        found = {item["model"]: item[key] for item in body["data"]}
        assert found == engine_or_null(engine, ALL_MODELS), key


async def test_fractional_percentiles_equal_the_engines(make_client, victoria, settings):
    body = await get_json(
        make_client, settings, "/api/metrics/percentiles/", time=END, percentiles="50,95,99.9"
    )
    for key, q in (("p50", 0.5), ("p95", 0.95), ("p99.9", 0.999)):
        engine = await engine_instant(victoria, quantile_promql(q), END)
        found = {item["model"]: item["percentiles"][key] for item in body["data"]}
        assert found == engine_or_null(engine, ALL_MODELS), key


async def test_p95_range_equals_the_engines_and_idle_points_are_missing(
    make_client, victoria, settings
):
    quiet_from = BEGIN + QUIET_AFTER
    start, end, step = BEGIN + CHANGE - 1800, quiet_from + 1800, 300
    body = await get_json(
        make_client, settings, "/api/metrics/p95/range/", start=start, end=end, step="5m"
    )
    assert (body["start"], body["end"]) == (start, end)
    found = {series["model"]: points(series) for series in body["data"]}
    assert found == await engine_range(victoria, quantile_promql(0.95), start, end, step)
    assert len(found["llama-3"]) == (end - start) // step + 1
    # Prometheus would give "quiet" a null at every idle step; VictoriaMetrics drops them.
    assert max(found["quiet"]) < quiet_from + 300 + step
    assert all(value is not None for series in found.values() for value in series.values())


async def test_history_equals_the_engines_over_the_same_window(make_client, victoria, settings):
    body = await get_json(make_client, settings, "/api/metrics/history/", hours=1)
    window = body["time_range"]
    start = datetime.fromisoformat(window["start"]).timestamp()
    end = datetime.fromisoformat(window["end"]).timestamp()
    step = parse_duration(window["step"])
    found = {series["model"]: points(series) for series in body["data"]}
    assert found == await engine_range(victoria, quantile_promql(0.95), start, end, step)
    assert found["gpt-4"], "the dataset's last hour has gpt-4 traffic"


@pytest.mark.parametrize("prefix", ["/prometheus", ""], ids=["prefixed", "root"])
async def test_readiness_is_ready_with_or_without_the_prefix(make_client, victoria, prefix):
    # Under the prefix VictoriaMetrics has no /-/ready (HTTP 400): before the fallback to a
    # trivial query, /health/ready was 503 "not ready (HTTP 400)" here.
    async with httpx.AsyncClient(trust_env=False) as direct:
        own = (await direct.get(victoria.url + prefix + "/-/ready")).status_code
    assert own == (400 if prefix else 200)
    settings = Settings(prometheus_url=victoria.url + prefix, prometheus_headers=TENANT)
    async with make_client(settings) as client:
        response = await client.get("/health/ready")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ready"


async def test_a_query_the_engine_rejects_is_a_502_json_error(make_client, victoria):
    # A configured selector with a regex RE2 cannot parse: VictoriaMetrics answers HTTP 422
    # with errorType "422" (Prometheus: 400, "bad_data"); both are the service's 502.
    selector = 'job=~"(?=llm)"'
    query = f"{SECONDS}_bucket{{{selector}}}"
    direct = await engine_post(victoria.prometheus_url + "/api/v1/query", query=query)
    assert direct.status_code == 422
    assert direct.json()["errorType"] == "422"
    settings = Settings(prometheus_url=victoria.prometheus_url, label_selector=selector)
    async with make_client(settings) as client:
        response = await client.get("/api/metrics/p95/", params={"time": END})
    assert response.status_code == 502, response.text
    body = response.json()
    assert body["status"] == "error"
    assert body["error"] == "Prometheus rejected the query (422)"
    assert "regexp" in body["details"]["reason"]


async def test_the_configured_header_reaches_the_engine_on_every_call(make_client):
    seen: list[tuple[str, str, str | None]] = []

    def engine(request: httpx.Request) -> httpx.Response:
        form = parse_qs(request.content.decode())
        call = form["query"][0] if "query" in form else request.url.path
        seen.append((request.method, call, request.headers.get("X-Scope-OrgID")))
        if request.url.path == "/prometheus/-/ready":
            return httpx.Response(400, text="unsupported path requested")  # as VM, Mimir
        assert request.url.path == "/prometheus/api/v1/query"
        result = {"resultType": "vector", "result": []}
        return httpx.Response(200, json={"status": "success", "data": result})

    settings = Settings(prometheus_url="http://engine.test/prometheus", prometheus_headers=TENANT)
    async with make_client(settings, httpx.MockTransport(engine)) as client:
        assert (await client.get("/api/metrics/p95/")).status_code == 200
        queried = len(seen)
        assert (await client.get("/health/ready")).status_code == 200
    assert queried >= 1
    # Readiness: the prefixed /-/ready (400 here), then the fallback query.
    assert [(method, call) for method, call, _ in seen[queried:]] == [
        ("GET", "/prometheus/-/ready"),
        ("POST", "vector(1)"),
    ]
    assert {tenant for _, _, tenant in seen} == {"team-a"}
