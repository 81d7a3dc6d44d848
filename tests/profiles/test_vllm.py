"""/api/models/ on vLLM's exact series: every number is Prometheus's own."""

from __future__ import annotations

import pytest

from app.settings import Settings
from tests.profiles.conftest import close, engine
from tests.support.profile_dataset import END

pytestmark = pytest.mark.prometheus

M = "model_name"


def quantile(metric: str, q: float) -> str:
    return f"1000 * histogram_quantile({q}, sum by (model_name, le) (rate({metric}_bucket[5m])))"


@pytest.fixture
def settings(profiles_prometheus) -> Settings:
    return Settings(prometheus_url=profiles_prometheus.url, cache_ttl_seconds=0)


async def table(make_client, settings, **params):
    async with make_client(settings) as client:
        response = await client.get("/api/models/", params={"time": END, **params})
    assert response.status_code == 200, response.text
    return response.json()


def rows_of(body, source):
    return {row["model"]: row for row in body["data"] if row["source"] == source}


SIGNALS = {
    "latency_ms": "vllm:e2e_request_latency_seconds",
    "ttft_ms": "vllm:time_to_first_token_seconds",
    "inter_token_latency_ms": "vllm:inter_token_latency_seconds",
    "queue_ms": "vllm:request_queue_time_seconds",
}


async def test_vllm_percentiles_are_prometheus_histogram_quantile(
    make_client, settings, profiles_prometheus
):
    body = await table(make_client, settings, profile="vllm")
    rows = rows_of(body, "vllm")
    assert sorted(rows) == ["llama-3-8b", "opt-125m", "qwen-idle"]  # (opt-125m: job vllm-old)
    url = profiles_prometheus.url
    for field, metric in SIGNALS.items():
        for q in (0.5, 0.95, 0.99):
            expected = engine(url, quantile(metric, q), M)
            for model, row in rows.items():
                key = f"p{round(q * 100)}"
                assert close(row[field][key], expected.get(model)), (field, model, key)
    busy = rows["llama-3-8b"]
    assert all(busy[field]["p95"] is not None for field in SIGNALS)


async def test_vllm_rates_and_success_ratio_are_prometheus_own(
    make_client, settings, profiles_prometheus
):
    rows = rows_of(await table(make_client, settings, profile="vllm"), "vllm")
    url = profiles_prometheus.url
    rps = engine(url, "sum by (model_name) (rate(vllm:request_success_total[5m]))", M)
    prompt = engine(url, "sum by (model_name) (rate(vllm:prompt_tokens_total[5m]))", M)
    output = engine(url, "sum by (model_name) (rate(vllm:generation_tokens_total[5m]))", M)
    ok = engine(
        url,
        'sum by (model_name) (rate(vllm:request_success_total{finished_reason=~"stop|length"}[5m]))'
        " / sum by (model_name) (rate(vllm:request_success_total[5m]))",
        M,
    )
    busy = rows["llama-3-8b"]
    assert close(busy["requests_per_second"], rps["llama-3-8b"])
    assert close(busy["input_tokens_per_second"], prompt["llama-3-8b"])
    assert close(busy["output_tokens_per_second"], output["llama-3-8b"])
    assert close(busy["success_ratio"], ok["llama-3-8b"])
    assert 0 < busy["success_ratio"] < 1


async def test_an_idle_model_has_zero_rates_null_percentiles_and_is_idle(make_client, settings):
    body = await table(make_client, settings, profile="vllm")
    idle = rows_of(body, "vllm")["qwen-idle"]
    assert idle["status"] == "idle"
    assert idle["requests_per_second"] == 0
    assert idle["output_tokens_per_second"] == 0
    assert idle["success_ratio"] is None
    assert idle["latency_ms"] == {"p50": None, "p95": None, "p99": None}
    assert body["missing"] == []


async def test_status_follows_p95_latency_and_the_thresholds(make_client, settings):
    rows = rows_of(await table(make_client, settings, profile="vllm"), "vllm")
    p95 = rows["llama-3-8b"]["latency_ms"]["p95"]
    below = settings.model_copy(update={"status_warning_ms": p95 + 1, "status_danger_ms": p95 + 2})
    between = settings.model_copy(
        update={"status_warning_ms": p95 - 1, "status_danger_ms": p95 + 1}
    )
    above = settings.model_copy(update={"status_warning_ms": p95 - 2, "status_danger_ms": p95 - 1})
    for changed, status in ((below, "good"), (between, "warning"), (above, "danger")):
        row = rows_of(await table(make_client, changed, profile="vllm"), "vllm")["llama-3-8b"]
        assert row["status"] == status


async def test_le_1_and_1_0_are_one_bucket(make_client, settings, profiles_prometheus):
    # Engine "0" writes le="1.0", engine "1" le="1": together they are one histogram.
    spelled = engine(
        profiles_prometheus.url,
        "count by (le) (vllm:e2e_request_latency_seconds_bucket"
        '{le=~"1|1.0",model_name="llama-3-8b"})',
        "le",
    )
    assert set(spelled) == {"1", "1.0"}
    body = await table(make_client, settings, profile="vllm", percentiles="50,95")
    row = rows_of(body, "vllm")["llama-3-8b"]
    expected = engine(
        profiles_prometheus.url, quantile("vllm:e2e_request_latency_seconds", 0.5), M
    )["llama-3-8b"]
    assert close(row["latency_ms"]["p50"], expected)
    assert set(row["latency_ms"]) == {"p50", "p95"}


async def test_older_vllm_inter_token_name_answers_the_same_signal(
    make_client, settings, profiles_prometheus
):
    old = settings.model_copy(update={"label_selector": 'job="vllm-old"'})
    body = await table(make_client, old, profile="vllm")
    [row] = body["data"]
    assert row["model"] == "opt-125m"
    expected = engine(
        profiles_prometheus.url,
        "1000 * histogram_quantile(0.95, sum by (model_name, le) "
        '(rate(vllm:time_per_output_token_seconds_bucket{job="vllm-old"}[5m])))',
        M,
    )
    assert close(row["inter_token_latency_ms"]["p95"], expected["opt-125m"])
    assert set(body["missing"]) == {
        "ttft",
        "queue",
        "requests_per_second",
        "input_tokens_per_second",
        "output_tokens_per_second",
        "success_ratio",
    }
    assert row["ttft_ms"] is None
    assert row["requests_per_second"] is None


async def test_default_profile_reads_the_seed_histogram(make_client, settings, profiles_prometheus):
    rows = rows_of(await table(make_client, settings, profile="default"), "default")
    url = profiles_prometheus.url
    expected = engine(
        url,
        "1000 * histogram_quantile(0.95, sum by (model, le) "
        "(rate(request_duration_seconds_bucket[5m])))",
        "model",
    )
    rate = engine(url, "sum by (model) (rate(request_duration_seconds_count[5m]))", "model")
    assert close(rows["gpt-4"]["latency_ms"]["p95"], expected["gpt-4"])
    assert close(rows["gpt-4"]["requests_per_second"], rate["gpt-4"])
    assert rows["gpt-4"]["ttft_ms"] is None
