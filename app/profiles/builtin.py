"""The built-in profiles, in the shape of a profile file (``app/profiles/model.py``).

Every name, label, unit and kind here is read from the exporter's own source;
``docs/profiles.md`` cites the file each comes from and says where the source differs
from what is commonly written about it.
"""

from __future__ import annotations

from typing import Any

from app.profiles.model import ProfileSet


def _histogram(metric: str, **extra: Any) -> dict[str, Any]:
    return {"metric": metric, "kind": "histogram", **extra}


def _counter(metric: str, **extra: Any) -> dict[str, Any]:
    return {"metric": metric, "kind": "counter", **extra}


VLLM = {
    "description": "vLLM (vllm/v1/metrics/loggers.py)",
    "model_label": "model_name",
    "signals": {
        "latency": _histogram("vllm:e2e_request_latency_seconds"),
        "ttft": _histogram("vllm:time_to_first_token_seconds"),
        # Servers before vllm:inter_token_latency_seconds have the same signal under this name.
        "inter_token_latency": _histogram(
            "vllm:inter_token_latency_seconds",
            fallback=_histogram("vllm:time_per_output_token_seconds"),
        ),
        "queue": _histogram("vllm:request_queue_time_seconds"),
        # Counts every finished request, labelled by finished_reason.
        "requests_per_second": _counter("vllm:request_success_total"),
        "input_tokens_per_second": _counter("vllm:prompt_tokens_total"),
        "output_tokens_per_second": _counter("vllm:generation_tokens_total"),
        "success_ratio": {
            "metric": "vllm:request_success_total",
            "kind": "ratio",
            "success": {"finished_reason": ["stop", "length"]},
        },
    },
}

SGLANG = {
    "description": "SGLang (python/sglang/srt/observability/metrics_collector.py)",
    "model_label": "model_name",
    "signals": {
        "latency": _histogram("sglang:e2e_request_latency_seconds"),
        "ttft": _histogram("sglang:time_to_first_token_seconds"),
        "inter_token_latency": _histogram("sglang:inter_token_latency_seconds"),
        "queue": _histogram("sglang:queue_time_seconds"),
        "requests_per_second": _counter("sglang:num_requests_total"),
        "input_tokens_per_second": _counter("sglang:prompt_tokens_total"),
        "output_tokens_per_second": _counter("sglang:generation_tokens_total"),
        "success_ratio": {
            "metric": "sglang:num_requests_total",
            "kind": "ratio",
            "failure_metric": "sglang:num_aborted_requests_total",
        },
    },
}

TGI = {
    "description": "Text Generation Inference (router/src/server.rs); one model per server, "
    "told apart by the scrape job",
    "model_label": "job",
    "signals": {
        "latency": _histogram("tgi_request_duration", unit="s"),
        "inter_token_latency": _histogram("tgi_request_mean_time_per_token_duration", unit="s"),
        "queue": _histogram("tgi_request_queue_duration", unit="s"),
        # tgi_request_count counts OpenAI-style requests twice: successes plus failures instead.
        "requests_per_second": _counter("tgi_request_success", plus=["tgi_request_failure"]),
        "input_tokens_per_second": _histogram("tgi_request_input_length"),
        "output_tokens_per_second": _histogram("tgi_request_generated_tokens"),
        "success_ratio": {
            "metric": "tgi_request_success",
            "kind": "ratio",
            "counts": "success",
            "failure_metric": "tgi_request_failure",
        },
    },
}

LITELLM = {
    "description": "LiteLLM proxy (litellm/integrations/prometheus.py); rows by requested_model",
    "model_label": "requested_model",
    "signals": {
        "latency": _histogram("litellm_request_total_latency_metric", unit="s"),
        "ttft": _histogram("litellm_llm_api_time_to_first_token_metric", unit="s"),
        # This histogram has no requested_model; its model_group is the requested
        # model on every request that did not fall back to another group.
        "inter_token_latency": _histogram(
            "litellm_deployment_latency_per_output_token", unit="s", model_label="model_group"
        ),
        "queue": _histogram("litellm_request_queue_time_seconds"),
        "requests_per_second": _counter("litellm_proxy_total_requests_metric_total"),
        "input_tokens_per_second": _counter("litellm_input_tokens_metric_total"),
        "output_tokens_per_second": _counter("litellm_output_tokens_metric_total"),
        "success_ratio": {
            "metric": "litellm_proxy_total_requests_metric_total",
            "kind": "ratio",
            "failure_metric": "litellm_proxy_failed_requests_metric_total",
        },
    },
}


def _triton_duration(summary: str, cumulative: str) -> dict[str, Any]:
    """A summary where summary_latencies is on, else the mean of the cumulative counter
    (microseconds of successful requests) over the successful requests."""
    mean = {"metric": cumulative, "kind": "average", "count_metric": "nv_inference_request_success"}
    return {"metric": summary, "kind": "summary", "fallback": mean}


TRITON = {
    "description": "Triton Inference Server core (src/metrics.cc, src/metric_model_reporter.cc)",
    "model_label": "model",
    "signals": {
        "latency": _triton_duration(
            "nv_inference_request_summary_us", "nv_inference_request_duration_us"
        ),
        "ttft": _histogram("nv_inference_first_response_histogram_ms"),
        "queue": _triton_duration(
            "nv_inference_queue_summary_us", "nv_inference_queue_duration_us"
        ),
        "requests_per_second": _counter(
            "nv_inference_request_success", plus=["nv_inference_request_failure"]
        ),
        "success_ratio": {
            "metric": "nv_inference_request_success",
            "kind": "ratio",
            "counts": "success",
            "failure_metric": "nv_inference_request_failure",
        },
    },
}

OTEL_SERVER = "gen_ai_server_request_duration_seconds"
OTEL_CLIENT = "gen_ai_client_operation_duration_seconds"
OTEL_GENAI = {
    "description": "OpenTelemetry GenAI semantic conventions through the Python SDK's "
    "Prometheus exporter (server metrics, else client metrics)",
    "model_label": "gen_ai_request_model",
    "signals": {
        "latency": _histogram(OTEL_SERVER, fallback=_histogram(OTEL_CLIENT)),
        "ttft": _histogram(
            "gen_ai_server_time_to_first_token_seconds",
            fallback=_histogram("gen_ai_client_operation_time_to_first_chunk_seconds"),
        ),
        "inter_token_latency": _histogram(
            "gen_ai_server_time_per_output_token_seconds",
            fallback=_histogram("gen_ai_client_operation_time_per_output_chunk_seconds"),
        ),
        "requests_per_second": _histogram(OTEL_SERVER, fallback=_histogram(OTEL_CLIENT)),
        "input_tokens_per_second": _histogram(
            "gen_ai_client_token_usage", matchers={"gen_ai_token_type": "input"}
        ),
        "output_tokens_per_second": _histogram(
            "gen_ai_client_token_usage", matchers={"gen_ai_token_type": "output"}
        ),
        # A failed request's duration carries error_type; a successful one has none.
        "success_ratio": {
            "metric": f"{OTEL_SERVER}_count",
            "kind": "ratio",
            "success": {"error_type": ""},
            "fallback": {
                "metric": f"{OTEL_CLIENT}_count",
                "kind": "ratio",
                "success": {"error_type": ""},
            },
        },
    },
}

DEFAULT = {
    "description": "The histogram the /api/metrics endpoints read by default",
    "model_label": "model",
    "signals": {
        "latency": _histogram("request_duration_seconds"),
        "requests_per_second": _histogram("request_duration_seconds"),
    },
}

BUILTIN: dict[str, Any] = {
    "profiles": {
        "vllm": VLLM,
        "sglang": SGLANG,
        "tgi": TGI,
        "litellm": LITELLM,
        "triton": TRITON,
        "otel-genai": OTEL_GENAI,
        "default": DEFAULT,
    }
}

BUILTIN_PROFILES = ProfileSet.model_validate(BUILTIN).profiles
