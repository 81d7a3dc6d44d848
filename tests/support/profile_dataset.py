"""One Prometheus holding every built-in profile's series, in each exporter's exact
names, labels, bucket bounds, ``le`` spelling and kinds (docs/profiles.md cites them).

``END`` is a whole minute a little in the past; tests evaluate there. Each profile has
a busy model and most an idle one (its series go on, flat, for the last ten minutes).
Variants that need their own engine view sit under their own ``job`` (an old vLLM,
a Triton without summaries), reached with ``LABEL_SELECTOR``.
"""

from __future__ import annotations

import time

from tests.support.exporters import Scrapes, python_le, short_le

INTERVAL = 15
END = int(time.time() // 60 * 60) - 120
BEGIN = END - 1800
IDLE = 1800 - 600  # idle models stop growing ten minutes before END

# vLLM (vllm/v1/metrics/buckets.py)
VLLM_LATENCY = (0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0)
VLLM_TTFT = (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0)
VLLM_ITL = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5)
# SGLang (metrics_collector.py)
SGLANG_TTFT = (0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40)
SGLANG_ITL = (0.002, 0.004, 0.006, 0.008, 0.010, 0.015, 0.020, 0.025, 0.030, 0.035, 0.040, 0.060)
SGLANG_QUEUE = (0.0, 0.001, 0.005, 0.010, 0.050, 0.100, 0.200, 0.500, 1, 2, 3, 4, 5, 10)
# TGI (router/src/server.rs): 0.0001 * 1.5^k
TGI_DURATION = tuple(round(0.0001 * 1.5**k, 10) for k in range(1, 36))
TGI_TOKENS = tuple(float(t) for t in range(100, 2001, 100))
# LiteLLM (types/integrations/prometheus.py LATENCY_BUCKETS; prometheus_client defaults)
LITELLM_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
CLIENT_DEFAULT = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
# Triton (metric_model_reporter.h): milliseconds
TRITON_FIRST_RESPONSE = (100.0, 500.0, 2000.0, 5000.0)
TRITON_QUANTILES = ("0.5", "0.9", "0.95", "0.99", "0.999")
# OpenTelemetry GenAI semantic conventions' advised boundaries
OTEL_DURATION = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48)
OTEL_TTFT = (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5)
OTEL_TOKENS = (1, 4, 16, 64, 256, 1024, 4096, 16384)


def vllm(data: Scrapes) -> None:
    for engine, le in (("0", python_le), ("1", short_le)):
        labels = {"job": "vllm", "model_name": "llama-3-8b", "engine": engine}
        data.histogram(
            "vllm:e2e_request_latency_seconds", labels, VLLM_LATENCY, [0, 1, 2, 3, 2, 1], le=le
        )
    for model, idle in (("llama-3-8b", None), ("qwen-idle", IDLE)):
        labels = {"job": "vllm", "model_name": model, "engine": "0"}
        if model == "qwen-idle":
            data.histogram(
                "vllm:e2e_request_latency_seconds", labels, VLLM_LATENCY, [1, 1], idle_after=idle
            )
        data.histogram(
            "vllm:time_to_first_token_seconds", labels, VLLM_TTFT, [0, 1, 3, 4, 2], idle_after=idle
        )
        data.histogram(
            "vllm:inter_token_latency_seconds", labels, VLLM_ITL, [5, 9, 4, 1], idle_after=idle
        )
        data.histogram(
            "vllm:request_queue_time_seconds", labels, VLLM_LATENCY, [6, 2, 1], idle_after=idle
        )
        data.counter("vllm:prompt_tokens_total", labels, 1200, idle)
        data.counter("vllm:generation_tokens_total", labels, 310, idle)
        for reason, count in (("stop", 6), ("length", 2), ("abort", 1), ("error", 1)):
            data.counter(
                "vllm:request_success_total", {**labels, "finished_reason": reason}, count, idle
            )
        # Every reason is created at start-up, at 0.
        data.counter("vllm:request_success_total", {**labels, "finished_reason": "repetition"}, 0)


def vllm_old(data: Scrapes) -> None:
    """A server from before vllm:inter_token_latency_seconds."""
    labels = {"job": "vllm-old", "model_name": "opt-125m"}
    data.histogram("vllm:e2e_request_latency_seconds", labels, VLLM_LATENCY, [2, 2, 1])
    data.histogram("vllm:time_per_output_token_seconds", labels, VLLM_ITL, [1, 4, 2, 1])


def sglang(data: Scrapes) -> None:
    for streaming, scale in (("true", 2), ("false", 1)):
        labels = {"job": "sglang", "model_name": "qwen-2.5-7b", "engine_type": "unified"}
        base = {**labels, "is_streaming": streaming}
        data.histogram("sglang:e2e_request_latency_seconds", base, SGLANG_TTFT, [0, 0, scale, 2, 1])
        data.histogram("sglang:time_to_first_token_seconds", base, SGLANG_TTFT, [scale, 3, 1])
        data.counter("sglang:num_requests_total", base, 4 * scale)
        data.counter("sglang:prompt_tokens_total", base, 900 * scale)
        data.counter("sglang:generation_tokens_total", base, 200 * scale)
    labels = {"job": "sglang", "model_name": "qwen-2.5-7b", "engine_type": "unified"}
    data.histogram("sglang:inter_token_latency_seconds", labels, SGLANG_ITL, [0, 2, 7, 3, 1])
    ranks = {"tp_rank": "0", "pp_rank": "0", "moe_ep_rank": "0"}
    data.histogram("sglang:queue_time_seconds", {**labels, **ranks}, SGLANG_QUEUE, [3, 2, 2, 1])
    data.counter("sglang:num_aborted_requests_total", labels, 0.5)


def tgi(data: Scrapes) -> None:
    for job, shift, idle in (("tgi-mistral", 0, None), ("tgi-idle", 4, IDLE)):
        labels = {"job": job, "instance": "10.0.0.1:80"}
        latency = [0] * (18 + shift) + [1, 3, 2, 1]
        data.histogram(
            "tgi_request_duration", labels, TGI_DURATION, latency, le=short_le, idle_after=idle
        )
        data.histogram(
            "tgi_request_mean_time_per_token_duration",
            labels,
            TGI_DURATION,
            [0] * 12 + [2, 5, 1],
            le=short_le,
            idle_after=idle,
        )
        data.histogram(
            "tgi_request_queue_duration",
            labels,
            TGI_DURATION,
            [0] * 5 + [4, 3, 1],
            le=short_le,
            idle_after=idle,
        )
        data.histogram(
            "tgi_request_input_length",
            labels,
            TGI_TOKENS,
            [0, 2, 3, 1],
            le=short_le,
            idle_after=idle,
        )
        data.histogram(
            "tgi_request_generated_tokens",
            labels,
            TGI_TOKENS,
            [1, 3, 2],
            le=short_le,
            idle_after=idle,
        )
        data.counter("tgi_request_count", labels, 9, idle)
        data.counter("tgi_request_success", labels, 6, idle)
        for err, count in (("validation", 0.5), ("overloaded", 0.25)):
            data.counter("tgi_request_failure", {**labels, "err": err}, count, idle)


def litellm(data: Scrapes) -> None:
    requested = {"job": "litellm", "requested_model": "gpt-4o"}
    both = {**requested, "model": "openai/gpt-4o", "model_group": "gpt-4o"}
    data.histogram(
        "litellm_request_total_latency_metric", both, LITELLM_LATENCY, [0] * 6 + [2, 4, 1]
    )
    data.histogram(
        "litellm_llm_api_time_to_first_token_metric", both, LITELLM_LATENCY, [0, 0, 1, 3, 2, 1]
    )
    data.histogram(
        "litellm_request_queue_time_seconds",
        {**requested, "model": "openai/gpt-4o"},
        LITELLM_LATENCY,
        [5, 2, 1],
    )
    data.histogram(
        "litellm_deployment_latency_per_output_token",
        {"job": "litellm", "model_group": "gpt-4o", "litellm_model_name": "openai/gpt-4o"},
        CLIENT_DEFAULT,
        [1, 4, 3, 1],
    )
    for status, count in (("200", 7), ("429", 1)):
        data.counter(
            "litellm_proxy_total_requests_metric_total", {**requested, "status_code": status}, count
        )
    data.counter(
        "litellm_proxy_failed_requests_metric_total",
        {**requested, "exception_status": "429", "exception_class": "RateLimitError"},
        1,
    )
    data.counter("litellm_input_tokens_metric_total", {**requested, "model": "openai/gpt-4o"}, 800)
    data.counter("litellm_output_tokens_metric_total", {**requested, "model": "openai/gpt-4o"}, 150)


def triton(data: Scrapes) -> None:
    for gpu, worse in (("GPU-a", 1.0), ("GPU-b", 1.5)):
        labels = {"job": "triton", "model": "ensemble-llm", "version": "1", "gpu_uuid": gpu}
        quantiles = {q: worse * 1000 * (i + 1) for i, q in enumerate(TRITON_QUANTILES)}
        data.summary("nv_inference_request_summary_us", labels, quantiles, 5, 1500)
        data.summary(
            "nv_inference_queue_summary_us",
            labels,
            {q: v / 10 for q, v in quantiles.items()},
            5,
            150,
        )
        data.histogram(
            "nv_inference_first_response_histogram_ms", labels, TRITON_FIRST_RESPONSE, [1, 3, 1]
        )
        data.counter("nv_inference_request_success", labels, 5)
        for reason, count in (("REJECTED", 1), ("CANCELED", 0), ("BACKEND", 0.5), ("OTHER", 0)):
            data.counter("nv_inference_request_failure", {**labels, "reason": reason}, count)
        data.counter("nv_inference_request_duration_us", labels, 5 * 1500)
        data.counter("nv_inference_queue_duration_us", labels, 5 * 150)
    plain = {"job": "triton-plain", "model": "bert", "version": "2"}
    data.counter("nv_inference_request_success", plain, 4)
    data.counter("nv_inference_request_failure", {**plain, "reason": "BACKEND"}, 1)
    data.counter("nv_inference_request_duration_us", plain, 4 * 2200)
    data.counter("nv_inference_queue_duration_us", plain, 4 * 300)


def otel(data: Scrapes) -> None:
    scope = {"otel_scope_name": "opentelemetry.instrumentation.openai_v2", "otel_scope_version": ""}
    common = {
        "job": "otel",
        "gen_ai_request_model": "gpt-4o-mini",
        "gen_ai_operation_name": "chat",
        "gen_ai_provider_name": "openai",
        **scope,
    }
    for error, counts in (("", [0, 0, 1, 3, 4, 2, 1]), ("timeout", [0] * 9 + [1])):
        data.histogram(
            "gen_ai_server_request_duration_seconds",
            {**common, "error_type": error},
            OTEL_DURATION,
            counts,
        )
    data.histogram("gen_ai_server_time_to_first_token_seconds", common, OTEL_TTFT, [0, 1, 2, 4, 1])
    data.histogram("gen_ai_server_time_per_output_token_seconds", common, VLLM_ITL, [1, 5, 2])
    for kind, counts in (("input", [0, 0, 1, 2, 4, 1]), ("output", [0, 1, 3, 2])):
        data.histogram(
            "gen_ai_client_token_usage", {**common, "gen_ai_token_type": kind}, OTEL_TOKENS, counts
        )


def default(data: Scrapes) -> None:
    labels = {"job": "gateway", "model": "gpt-4"}
    data.histogram("request_duration_seconds", labels, (0.05, 0.1, 0.2, 0.5, 1.0), [1, 3, 4, 1])


def build() -> Scrapes:
    data = Scrapes(BEGIN, END, INTERVAL)
    for add in (vllm, vllm_old, sglang, tgi, litellm, triton, otel, default):
        add(data)
    return data


DATA = build()
