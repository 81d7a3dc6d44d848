"""/api/models/range/: every point is Prometheus's own range evaluation of the same
question, and a repeated chart is answered from the range delta cache."""

from __future__ import annotations

import math
import time

import httpx
import pytest

from app.settings import Settings
from tests.profiles.conftest import close
from tests.support.profile_dataset import END
from tests.support.relay import Relay

pytestmark = pytest.mark.prometheus

START = END - 1200
STEP = 60


@pytest.fixture
def settings(profiles_prometheus) -> Settings:
    return Settings(prometheus_url=profiles_prometheus.url, cache_ttl_seconds=0)


def engine_range(url: str, promql: str, label: str) -> dict[str, list[tuple[float, float | None]]]:
    form = {"query": promql, "start": str(START), "end": str(END), "step": str(STEP)}
    response = httpx.post(f"{url}/api/v1/query_range", data=form)
    response.raise_for_status()
    found = {}
    for item in response.json()["data"]["result"]:
        points = []
        for stamp, text in item["values"]:
            value = float(text)
            points.append((float(stamp), value if math.isfinite(value) else None))
        found[item["metric"][label]] = points
    return found


async def series(make_client, settings, transport=None, **params):
    async with make_client(settings, transport) as client:
        response = await client.get(
            "/api/models/range/",
            params={"end": END, "duration": "20m", "step": "1m", **params},
        )
    body = response.json()
    assert response.status_code == 200, body
    return body


def by_key(body):
    return {(d["model"], d["source"], d["signal"]): d for d in body["data"]}


def assert_same_points(item, expected):
    got = [(p["timestamp"], p["value"]) for p in item["data_points"]]
    assert [t for t, _ in got] == [t for t, _ in expected]
    for (_, value), (_, want) in zip(got, expected, strict=True):
        assert close(value, want), (item["signal"], value, want)


async def test_vllm_series_equal_prometheus_range_queries(
    make_client, settings, profiles_prometheus
):
    signals = "latency_p95,ttft_p50,queue_mean,output_tokens_per_second,success_ratio"
    body = await series(make_client, settings, profile="vllm", signals=signals)
    found = by_key(body)
    url, label, model = profiles_prometheus.url, "model_name", "llama-3-8b"
    expected = {
        "latency_p95": "1000 * histogram_quantile(0.95, sum by (model_name, le) "
        "(rate(vllm:e2e_request_latency_seconds_bucket[5m])))",
        "ttft_p50": "1000 * histogram_quantile(0.5, sum by (model_name, le) "
        "(rate(vllm:time_to_first_token_seconds_bucket[5m])))",
        "queue_mean": "1000 * sum by (model_name) (rate(vllm:request_queue_time_seconds_sum[5m]))"
        " / sum by (model_name) (rate(vllm:request_queue_time_seconds_count[5m]))",
        "output_tokens_per_second": "sum by (model_name) (rate(vllm:generation_tokens_total[5m]))",
        "success_ratio": "sum by (model_name) "
        '(rate(vllm:request_success_total{finished_reason=~"stop|length"}[5m]))'
        " / sum by (model_name) (rate(vllm:request_success_total[5m]))",
    }
    for signal, promql in expected.items():
        item = found[(model, "vllm", signal)]
        unit = {"output_tokens_per_second": "per_second", "success_ratio": "ratio"}
        assert item["unit"] == unit.get(signal, "ms")
        assert_same_points(item, engine_range(url, promql, label)[model])
    assert body["start"] == START
    assert body["end"] == END
    assert body["missing"] == []


async def test_triton_summary_series_is_the_worst_instance(
    make_client, settings, profiles_prometheus
):
    triton = settings.model_copy(update={"label_selector": 'job="triton"'})
    body = await series(make_client, triton, profile="triton", signals="latency_p99,ttft_p95")
    found = by_key(body)
    url = profiles_prometheus.url
    worst = engine_range(
        url, 'max by (model) (nv_inference_request_summary_us{quantile="0.99"}) / 1000', "model"
    )
    assert_same_points(found[("ensemble-llm", "triton", "latency_p99")], worst["ensemble-llm"])
    ttft = engine_range(
        url,
        "histogram_quantile(0.95, sum by (model, le) "
        "(rate(nv_inference_first_response_histogram_ms_bucket[5m])))",
        "model",
    )
    assert_same_points(found[("ensemble-llm", "triton", "ttft_p95")], ttft["ensemble-llm"])


async def test_a_signal_no_source_has_is_missing_and_a_mean_only_source_says_so(
    make_client, settings
):
    plain = settings.model_copy(update={"label_selector": 'job="triton-plain"'})
    body = await series(
        make_client, plain, profile="triton", signals="latency_p95,latency_mean,ttft_p95"
    )
    assert [d["signal"] for d in body["data"]] == ["latency_mean"]
    assert body["missing"] == ["latency_p95", "ttft_p95"]
    assert any("which has no percentiles" in w for w in body["warnings"])


async def test_a_repeated_chart_is_answered_from_the_range_delta_cache(make_client, settings):
    # Points settle once the rate window (5m) and the settling time have passed: with the
    # settling time set from the clock, the horizon is 10 minutes before the dataset's end
    # however long the session has run, so each chart has settled and unsettled points.
    horizon = END - 600
    settle = time.time() - 300 - horizon
    settings = settings.model_copy(update={"range_cache_settle_seconds": settle})
    relay = Relay()
    params = {"profile": "vllm", "signals": "latency_p95,output_tokens_per_second"}
    async with make_client(settings, relay) as client:
        for _ in range(2):
            response = await client.get(
                "/api/models/range/", params={"end": END, "duration": "20m", "step": "1m", **params}
            )
            assert response.status_code == 200
    first, second = relay.ranges[:2], relay.ranges[2:]
    # One range query per series; the second chart asks each again only from where its
    # points may still change (the rate window and the settling time before now).
    assert len(first) == 2
    assert sorted(q for q, _ in second) == sorted(q for q, _ in first)
    assert {start for _, start in first} == {START}
    assert all(START < start <= horizon + STEP for _, start in second), second


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"signals": "latency"}, "signals"),
        ({"signals": "latency_p95,tokens"}, "signals"),
        ({"signals": "success_ratio_p95"}, "signals"),
        ({"step": "0s"}, "step"),
        ({"duration": "1y"}, "duration"),
        ({"profile": "nope"}, "profile"),
    ],
)
async def test_bad_range_parameters_are_400_in_the_one_shape(
    make_client, settings, params, parameter
):
    async with make_client(settings) as client:
        response = await client.get("/api/models/range/", params=params)
    body = response.json()
    assert response.status_code == 400, body
    assert body["error"] == f"Invalid parameter: {parameter}"
    assert body["details"]["errors"][0]["parameter"] == parameter
