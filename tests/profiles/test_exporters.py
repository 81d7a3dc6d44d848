"""/api/models/ on SGLang's, TGI's, LiteLLM's, Triton's and OpenTelemetry's exact series:
every percentile, rate and ratio equals what Prometheus itself computes on the same data."""

from __future__ import annotations

import pytest

from app.settings import Settings
from tests.profiles.conftest import close, engine
from tests.support.profile_dataset import END

pytestmark = pytest.mark.prometheus


@pytest.fixture
def settings(profiles_prometheus) -> Settings:
    return Settings(prometheus_url=profiles_prometheus.url, cache_ttl_seconds=0)


async def rows(make_client, settings, profile, **params):
    async with make_client(settings) as client:
        response = await client.get(
            "/api/models/", params={"time": END, "profile": profile, **params}
        )
    body = response.json()
    assert response.status_code == 200, body
    return {row["model"]: row for row in body["data"]}, body


def quantiles(url: str, metric: str, label: str, scale: float = 1000.0, matchers: str = ""):
    """Prometheus's histogram_quantile of every percentile asked, in milliseconds."""
    return {
        f"p{round(q * 100)}": engine(
            url,
            f"{scale} * histogram_quantile({q}, sum by ({label}, le) "
            f"(rate({metric}_bucket{{{matchers}}}[5m])))",
            label,
        )
        for q in (0.5, 0.95, 0.99)
    }


def assert_percentiles(row_value, expected, model):
    assert row_value is not None
    for key, by_model in expected.items():
        assert close(row_value[key], by_model.get(model)), (key, model, row_value)
    assert any(row_value[key] is not None for key in expected)


def rate(url: str, selector: str, label: str) -> dict[str, float | None]:
    return engine(url, f"sum by ({label}) (rate({selector}[5m]))", label)


async def test_sglang(make_client, settings, profiles_prometheus):
    url, label, model = profiles_prometheus.url, "model_name", "qwen-2.5-7b"
    found, body = await rows(make_client, settings, "sglang")
    row = found[model]
    for field, metric in (
        ("latency_ms", "sglang:e2e_request_latency_seconds"),
        ("ttft_ms", "sglang:time_to_first_token_seconds"),
        ("inter_token_latency_ms", "sglang:inter_token_latency_seconds"),
        ("queue_ms", "sglang:queue_time_seconds"),
    ):
        assert_percentiles(row[field], quantiles(url, metric, label), model)
    total = rate(url, "sglang:num_requests_total", label)[model]
    aborted = rate(url, "sglang:num_aborted_requests_total", label)[model]
    assert total is not None
    assert aborted is not None
    assert close(row["requests_per_second"], total)
    assert close(
        row["input_tokens_per_second"], rate(url, "sglang:prompt_tokens_total", label)[model]
    )
    assert close(
        row["output_tokens_per_second"], rate(url, "sglang:generation_tokens_total", label)[model]
    )
    ratio = engine(
        url,
        "1 - sum by (model_name) (rate(sglang:num_aborted_requests_total[5m]))"
        " / sum by (model_name) (rate(sglang:num_requests_total[5m]))",
        label,
    )[model]
    assert close(row["success_ratio"], ratio)
    assert close(1 - aborted / total, row["success_ratio"])
    assert body["missing"] == []


async def test_tgi_one_row_per_server_named_by_its_job(make_client, settings, profiles_prometheus):
    url, label = profiles_prometheus.url, "job"
    found, body = await rows(make_client, settings, "tgi")
    assert sorted(found) == ["tgi-idle", "tgi-mistral"]
    row = found["tgi-mistral"]
    for field, metric in (
        ("latency_ms", "tgi_request_duration"),
        ("inter_token_latency_ms", "tgi_request_mean_time_per_token_duration"),
        ("queue_ms", "tgi_request_queue_duration"),
    ):
        assert_percentiles(row[field], quantiles(url, metric, label), "tgi-mistral")
    requests = engine(
        url,
        'sum by (job) (rate({__name__=~"tgi_request_success|tgi_request_failure"}[5m]))',
        label,
    )
    assert close(row["requests_per_second"], requests["tgi-mistral"])
    assert close(
        row["input_tokens_per_second"],
        rate(url, "tgi_request_input_length_sum", label)["tgi-mistral"],
    )
    assert close(
        row["output_tokens_per_second"],
        rate(url, "tgi_request_generated_tokens_sum", label)["tgi-mistral"],
    )
    ratio = engine(
        url,
        "sum by (job) (rate(tgi_request_success[5m])) / "
        'sum by (job) (rate({__name__=~"tgi_request_success|tgi_request_failure"}[5m]))',
        label,
    )
    assert close(row["success_ratio"], ratio["tgi-mistral"])
    assert body["missing"] == ["ttft"]  # TGI exports no time to first token
    assert row["ttft_ms"] is None
    idle = found["tgi-idle"]
    assert idle["status"] == "idle"
    assert idle["requests_per_second"] == 0
    assert idle["latency_ms"] == {"p50": None, "p95": None, "p99": None}


async def test_litellm_joins_every_signal_by_requested_model(
    make_client, settings, profiles_prometheus
):
    url, label, model = profiles_prometheus.url, "requested_model", "gpt-4o"
    found, body = await rows(make_client, settings, "litellm")
    assert sorted(found) == [model]
    row = found[model]
    for field, metric in (
        ("latency_ms", "litellm_request_total_latency_metric"),
        ("ttft_ms", "litellm_llm_api_time_to_first_token_metric"),
        ("queue_ms", "litellm_request_queue_time_seconds"),
    ):
        assert_percentiles(row[field], quantiles(url, metric, label), model)
    itl = quantiles(url, "litellm_deployment_latency_per_output_token", "model_group")
    assert_percentiles(row["inter_token_latency_ms"], itl, model)
    total = rate(url, "litellm_proxy_total_requests_metric_total", label)[model]
    failed = rate(url, "litellm_proxy_failed_requests_metric_total", label)[model]
    assert total is not None
    assert failed is not None
    assert close(row["requests_per_second"], total)
    assert close(row["success_ratio"], 1 - failed / total)
    assert close(
        row["input_tokens_per_second"], rate(url, "litellm_input_tokens_metric_total", label)[model]
    )
    assert close(
        row["output_tokens_per_second"],
        rate(url, "litellm_output_tokens_metric_total", label)[model],
    )
    assert body["warnings"] == []


async def test_triton_reads_its_summary_says_so_and_takes_the_worst_instance(
    make_client, settings, profiles_prometheus
):
    url, label, model = profiles_prometheus.url, "model", "ensemble-llm"
    triton = settings.model_copy(update={"label_selector": 'job="triton"'})
    found, body = await rows(make_client, triton, "triton", percentiles="50,95,99,75")
    row = found[model]
    for field, metric in (
        ("latency_ms", "nv_inference_request_summary_us"),
        ("queue_ms", "nv_inference_queue_summary_us"),
    ):
        for key, q in (("p50", "0.5"), ("p95", "0.95"), ("p99", "0.99")):
            worst = engine(url, f'max by (model) ({metric}{{quantile="{q}"}}) / 1000', label)
            assert close(row[field][key], worst[model]), (field, key)
        assert row[field]["p75"] is None  # the summary has no 0.75 quantile
    warnings = " ".join(body["warnings"])
    assert "is a summary" in warnings
    assert "more than one summary series" in warnings
    assert "no quantile for percentile(s) 75" in warnings
    ttft = quantiles(url, "nv_inference_first_response_histogram_ms", label, scale=1.0)
    assert close(row["ttft_ms"]["p95"], ttft["p95"][model])
    requests = engine(
        url,
        "sum by (model) (rate("
        '{__name__=~"nv_inference_request_success|nv_inference_request_failure"}[5m]))',
        label,
    )[model]
    assert close(row["requests_per_second"], requests)
    success = rate(url, "nv_inference_request_success", label)[model]
    assert success is not None
    assert requests is not None
    assert close(row["success_ratio"], success / requests)
    assert set(body["missing"]) == {
        "inter_token_latency",
        "input_tokens_per_second",
        "output_tokens_per_second",
    }


async def test_triton_without_summaries_answers_the_mean_of_its_microsecond_counters(
    make_client, settings, profiles_prometheus
):
    url, label = profiles_prometheus.url, "model"
    plain = settings.model_copy(update={"label_selector": 'job="triton-plain"'})
    found, body = await rows(make_client, plain, "triton")
    row = found["bert"]
    mean = engine(
        url,
        "sum by (model) (rate(nv_inference_request_duration_us[5m])) / 1000"
        " / sum by (model) (rate(nv_inference_request_success[5m]))",
        label,
    )["bert"]
    assert row["latency_ms"] == {"mean": pytest.approx(mean, rel=1e-6)}
    assert row["latency_ms"]["mean"] == pytest.approx(2.2)  # 2200 µs per request
    queue = engine(
        url,
        "sum by (model) (rate(nv_inference_queue_duration_us[5m])) / 1000"
        " / sum by (model) (rate(nv_inference_request_success[5m]))",
        label,
    )["bert"]
    assert close(row["queue_ms"]["mean"], queue)
    assert row["status"] == "good"  # from the mean, below STATUS_WARNING_MS
    assert any("an average (mean)" in w for w in body["warnings"])


async def test_otel_genai(make_client, settings, profiles_prometheus):
    url, label, model = profiles_prometheus.url, "gen_ai_request_model", "gpt-4o-mini"
    found, body = await rows(make_client, settings, "otel-genai")
    row = found[model]
    for field, metric in (
        ("latency_ms", "gen_ai_server_request_duration_seconds"),
        ("ttft_ms", "gen_ai_server_time_to_first_token_seconds"),
        ("inter_token_latency_ms", "gen_ai_server_time_per_output_token_seconds"),
    ):
        assert_percentiles(row[field], quantiles(url, metric, label), model)
    count = "gen_ai_server_request_duration_seconds_count"
    assert close(row["requests_per_second"], rate(url, count, label)[model])
    ok = engine(
        url,
        f'sum by ({label}) (rate({count}{{error_type=""}}[5m]))'
        f" / sum by ({label}) (rate({count}[5m]))",
        label,
    )[model]
    assert close(row["success_ratio"], ok)
    assert 0 < row["success_ratio"] < 1
    for field, kind in (
        ("input_tokens_per_second", "input"),
        ("output_tokens_per_second", "output"),
    ):
        tokens = rate(url, f'gen_ai_client_token_usage_sum{{gen_ai_token_type="{kind}"}}', label)
        assert close(row[field], tokens[model]), field
    assert body["missing"] == ["queue"]
