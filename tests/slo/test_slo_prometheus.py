"""/api/metrics/slo/ against a real Prometheus serving the standard dataset.

Shares at a bucket bound are checked against Prometheus's own ratio of bucket rate to
count rate; interpolated shares and Apdex against tests/support/fraction.py, computed
from the increments the dataset was generated from; requests against Prometheus's own
``increase`` of the count.
"""

from __future__ import annotations

import pytest

from app.settings import Settings
from tests.slo.promql import ask, ask_one
from tests.support import fraction
from tests.support.dataset import BEGIN, END, MS_BOUNDS, SECONDS_BOUNDS, specs
from tests.support.histograms import summed

pytestmark = pytest.mark.prometheus

SECONDS = "request_duration_seconds"
MILLIS = "inference_latency_milliseconds"
REL = 1e-9


@pytest.fixture
def settings(prometheus) -> Settings:
    return Settings(prometheus_url=prometheus.url, cache_ttl_seconds=0)


async def slo(make_client, settings, **params) -> dict[str, dict]:
    async with make_client(settings) as client:
        response = await client.get("/api/metrics/slo/", params={"time": END, **params})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == len(body["data"])
    return {row["model"]: row for row in body["data"]}


def increments(model: str, metric: str = SECONDS) -> list[float]:
    return summed(specs(metric, model), END - BEGIN)


async def test_a_share_at_a_bucket_bound_is_prometheus_own_ratio(prometheus, settings, make_client):
    rows = await slo(make_client, settings, threshold_ms="500", time_range="30m")
    for model in ("gpt-4", "llama-3"):
        ratio = ask_one(
            prometheus.url,
            f'sum(rate({SECONDS}_bucket{{model="{model}",le="0.5"}}[30m]))'
            f' / sum(rate({SECONDS}_count{{model="{model}"}}[30m]))',
            END,
        )
        row = rows[model]
        assert row["exact"] is True
        assert row["threshold_ms"] == 500
        assert row["share_under_threshold"] == pytest.approx(ratio, rel=REL)


async def test_the_bound_matches_by_numeric_value_in_a_milliseconds_metric(
    prometheus, settings, make_client
):
    rows = await slo(make_client, settings, threshold_ms="1e2", metric_name=MILLIS)
    ratio = ask_one(
        prometheus.url,
        f'sum(rate({MILLIS}_bucket{{le="100.0"}}[1h])) / sum(rate({MILLIS}_count[1h]))',
        END,
    )
    assert rows["mistral"]["exact"] is True
    assert rows["mistral"]["share_under_threshold"] == pytest.approx(ratio, rel=REL)


@pytest.mark.parametrize("threshold_ms", ["300", "75", "1500", "4999"])
async def test_an_interpolated_share_follows_histogram_fraction(
    settings, make_client, threshold_ms
):
    rows = await slo(make_client, settings, threshold_ms=threshold_ms, time_range="30m")
    for model in ("gpt-4", "llama-3", "overflow"):
        expected = fraction.share_under(
            float(threshold_ms) / 1000, SECONDS_BOUNDS, increments(model)
        )
        assert rows[model]["exact"] is False
        assert rows[model]["share_under_threshold"] == pytest.approx(expected, rel=REL)


async def test_requests_are_prometheus_own_increase_of_the_count(prometheus, settings, make_client):
    rows = await slo(make_client, settings, threshold_ms="300")
    counted = ask(
        prometheus.url, f'sum by (model) (increase({SECONDS}_count{{job="llm-gateway"}}[1h]))', END
    )
    for model in ("gpt-4", "llama-3", "overflow"):
        assert rows[model]["requests"] == pytest.approx(counted[model], rel=REL)


async def test_met_and_the_error_budget_follow_the_objective(settings, make_client):
    rows = await slo(make_client, settings, threshold_ms="1000", objective="95", time_range="30m")
    for model in ("gpt-4", "llama-3", "overflow"):
        share = fraction.share_under(1.0, SECONDS_BOUNDS, increments(model))
        assert share is not None
        row = rows[model]
        assert row["objective"] == 0.95
        assert row["met"] is (share >= 0.95)
        assert row["error_budget_remaining"] == pytest.approx(1 - (1 - share) / 0.05, rel=1e-9)
    assert rows["overflow"]["error_budget_remaining"] < 0  # overspent


async def test_apdex_follows_the_same_bucket_rule(settings, make_client):
    rows = await slo(make_client, settings, threshold_ms="300", apdex_t_ms="120", time_range="30m")
    for model in ("gpt-4", "llama-3", "overflow"):
        expected = fraction.apdex(0.12, SECONDS_BOUNDS, increments(model))
        assert rows[model]["apdex"] == pytest.approx(expected, rel=REL)


async def test_apdex_is_absent_unless_asked(settings, make_client):
    rows = await slo(make_client, settings, threshold_ms="300")
    assert all("apdex" not in row for row in rows.values())


async def test_a_model_without_requests_has_nulls(settings, make_client):
    rows = await slo(make_client, settings, threshold_ms="300", time_range="5m", apdex_t_ms="100")
    quiet = rows["quiet"]
    for key in ("share_under_threshold", "met", "error_budget_remaining", "requests", "apdex"):
        assert quiet[key] is None, key
    assert rows["gpt-4"]["met"] is not None


async def test_ms_bounds_interpolate_in_milliseconds(settings, make_client):
    rows = await slo(make_client, settings, threshold_ms="180", metric_name=MILLIS)
    expected = fraction.share_under(180.0, MS_BOUNDS, increments("mistral", MILLIS))
    assert rows["mistral"]["share_under_threshold"] == pytest.approx(expected, rel=REL)
