"""Every endpoint against a real Prometheus serving the standard dataset.

Expected numbers come from tests/support/histograms.expected_quantile over the
bucket increments the dataset was generated from, never from the service.
"""

from __future__ import annotations

import itertools
import math
from datetime import datetime

import pytest

from app.settings import Settings
from tests.support.dataset import (
    BEGIN,
    CHANGE,
    END,
    INJECTION,
    INTERVAL,
    MS_BOUNDS,
    SECONDS_BOUNDS,
    WEIRD,
    specs,
)
from tests.support.histograms import expected_quantile, summed

pytestmark = pytest.mark.prometheus

SECONDS = "request_duration_seconds"
MILLIS = "inference_latency_milliseconds"


def expected_ms(model: str, q: float, *, at: float = END, metric: str = SECONDS) -> float | None:
    bounds = MS_BOUNDS if metric == MILLIS else SECONDS_BOUNDS
    value = expected_quantile(q, bounds, summed(specs(metric, model), at - BEGIN))
    if value is None:
        return None
    return value if metric == MILLIS else value * 1000


def close(actual: float | None, expected: float | None) -> bool:
    if expected is None:
        return actual is None
    return actual is not None and math.isclose(actual, expected, rel_tol=1e-6)


@pytest.fixture
def settings(prometheus) -> Settings:
    return Settings(prometheus_url=prometheus.url, cache_ttl_seconds=0)


async def get_json(make_client, settings, path, **params):
    async with make_client(settings) as client:
        response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_p95_per_model_matches_independent_quantiles(make_client, settings):
    body = await get_json(make_client, settings, "/api/metrics/p95/", time=END)
    models = [item["model"] for item in body["data"]]
    assert models == sorted(["gpt-4", "llama-3", WEIRD, "quiet", "overflow", "other-job"])
    assert body["count"] == len(body["data"])
    for item in body["data"]:
        assert close(item["p95_latency_ms"], expected_ms(item["model"], 0.95)), item
        assert item["timestamp"] == END
        assert datetime.fromisoformat(item["collected_at"]).timestamp() == END
        assert item["metric_name"] == SECONDS
        assert item["time_range"] == "5m"
    assert datetime.fromisoformat(body["last_updated"]).timestamp() == END


async def test_replicas_of_one_model_are_aggregated_before_the_quantile(make_client, settings):
    body = await get_json(make_client, settings, "/api/metrics/p95/", time=END, model="gpt-4")
    [item] = body["data"]
    both = expected_ms("gpt-4", 0.95)
    only_a = expected_quantile(0.95, SECONDS_BOUNDS, summed(specs(SECONDS, "gpt-4")[:1], 0))
    assert close(item["p95_latency_ms"], both)
    assert only_a is not None
    assert not close(item["p95_latency_ms"], only_a * 1000)


async def test_no_traffic_gives_null_and_overflow_gives_largest_bound(make_client, settings):
    body = await get_json(make_client, settings, "/api/metrics/p95/", time=END)
    by_model = {item["model"]: item["p95_latency_ms"] for item in body["data"]}
    assert by_model["quiet"] is None
    assert by_model["overflow"] == SECONDS_BOUNDS[-1] * 1000


async def test_millisecond_metric_is_not_scaled(make_client, settings):
    body = await get_json(make_client, settings, "/api/metrics/p95/", time=END, metric_name=MILLIS)
    [item] = body["data"]
    assert item["model"] == "mistral"
    assert close(item["p95_latency_ms"], expected_ms("mistral", 0.95, metric=MILLIS))


async def test_model_with_quote_and_backslash_is_matched_exactly(make_client, settings):
    body = await get_json(make_client, settings, "/api/metrics/p95/", time=END, model=WEIRD)
    assert [item["model"] for item in body["data"]] == [WEIRD]
    assert close(body["data"][0]["p95_latency_ms"], expected_ms(WEIRD, 0.95))


async def test_injection_attempt_matches_nothing(make_client, settings):
    body = await get_json(make_client, settings, "/api/metrics/p95/", time=END, model=INJECTION)
    assert body == {**body, "data": [], "count": 0}


async def test_several_model_filters_and_the_model_name_alias(make_client, settings):
    async with make_client(settings) as client:
        response = await client.get(
            "/api/metrics/p95/",
            params=[("time", END), ("model", "gpt-4"), ("model_name", WEIRD), ("model", "nope")],
        )
    assert [item["model"] for item in response.json()["data"]] == ["gpt-4", WEIRD]


async def test_configured_label_selector_applies_to_every_query(make_client, prometheus):
    settings = Settings(
        prometheus_url=prometheus.url, cache_ttl_seconds=0, label_selector='job="llm-gateway"'
    )
    body = await get_json(make_client, settings, "/api/metrics/p95/", time=END)
    assert "other-job" not in [item["model"] for item in body["data"]]
    assert "gpt-4" in [item["model"] for item in body["data"]]


async def test_percentiles_including_fractional_ones(make_client, settings):
    body = await get_json(
        make_client, settings, "/api/metrics/percentiles/", time=END, percentiles="50,95,99.9"
    )
    assert body["metric_name"] == SECONDS
    assert body["time_range"] == "5m"
    assert body["count"] == len(body["data"]) == 6
    for item in body["data"]:
        assert list(item["percentiles"]) == ["p50", "p95", "p99.9"]
        for key, q in (("p50", 0.5), ("p95", 0.95), ("p99.9", 0.999)):
            assert close(item["percentiles"][key], expected_ms(item["model"], q)), (item, key)


async def test_summary_has_p50_p95_p99(make_client, settings):
    body = await get_json(make_client, settings, "/api/metrics/", time=END, time_range="10m")
    for item in body["data"]:
        for key, q in (("p50_latency_ms", 0.5), ("p95_latency_ms", 0.95), ("p99_latency_ms", 0.99)):
            assert close(item[key], expected_ms(item["model"], q)), (item, key)
        assert item["time_range"] == "10m"


async def test_range_time_axis_and_values_across_a_change(make_client, settings):
    change = BEGIN + CHANGE
    start, end = change - 1800, change + 1800
    body = await get_json(
        make_client,
        settings,
        "/api/metrics/p95/range/",
        start=start,
        end=end,
        step="5m",
        model="llama-3",
    )
    [series] = body["data"]
    assert series["metric_name"] == SECONDS
    assert series["step"] == "5m"
    assert series["duration"] == "1h"
    stamps = [p["timestamp"] for p in series["data_points"]]
    assert stamps == [float(t) for t in range(start, end + 1, 300)]
    for point in series["data_points"]:
        t = point["timestamp"]
        if abs(t - change) < 300 + INTERVAL:  # the rate window straddles the change
            continue
        assert close(point["p95_latency_ms"], expected_ms("llama-3", 0.95, at=t)), point
    before = expected_ms("llama-3", 0.95, at=change - 600)
    after = expected_ms("llama-3", 0.95, at=change + 600)
    assert before is not None
    assert after is not None
    assert after > before


async def test_range_defaults_to_the_last_hour_aligned_to_the_step(make_client, settings):
    body = await get_json(make_client, settings, "/api/metrics/p95/range/", step="1m")
    assert body["end"] % 60 == 0
    assert body["end"] - body["start"] == 3600
    for series in body["data"]:
        for point in series["data_points"]:
            assert point["timestamp"] % 60 == 0


async def test_history_uses_iso_timestamps_and_a_chart_sized_step(make_client, settings):
    body = await get_json(
        make_client, settings, "/api/metrics/history/", hours=1, model_name="gpt-4"
    )
    window = body["time_range"]
    start = datetime.fromisoformat(window["start"]).timestamp()
    end = datetime.fromisoformat(window["end"]).timestamp()
    assert window["hours"] == 1
    assert window["step"] == "30s"
    assert end - start == 3600
    [series] = body["data"]
    assert series["model"] == "gpt-4"
    stamps = [datetime.fromisoformat(p["timestamp"]).timestamp() for p in series["data_points"]]
    assert stamps == sorted(stamps)
    assert all(b - a == 30 for a, b in itertools.pairwise(stamps))
    assert start <= stamps[0]
    assert stamps[-1] <= end
    # points inside the dataset have the known value; later ones have no samples left
    inside = [p for p, t in zip(series["data_points"], stamps, strict=True) if t <= END]
    assert inside
    assert all(close(p["p95_latency_ms"], expected_ms("gpt-4", 0.95)) for p in inside)


async def test_prometheus_down_is_a_503_json_error(make_client):
    from harness.processes import free_port

    settings = Settings(prometheus_url=f"http://127.0.0.1:{free_port()}")
    async with make_client(settings) as client:
        response = await client.get("/api/metrics/p95/")
    assert response.status_code == 503
    assert response.json()["status"] == "error"
