"""Example bodies of the answers beyond the seeds' (SLO, distribution, model scorecard),
taken from the service's own answers on the test datasets (trimmed to a model or two; the
heatmap example to four buckets).

``app/schemas/examples.py`` lists them with the others; tests validate each against its model.
"""

from __future__ import annotations

from typing import Any

SLO: dict[str, Any] = {
    "status": "success",
    "count": 1,
    "warnings": [],
    "histogram": "classic",
    "partial": False,
    "stale": False,
    "data": [
        {
            "model": "gpt-4",
            "share_under_threshold": 0.8437,
            "apdex": 0.776,
            "objective": 0.99,
            "met": False,
            "requests": 7680.0,
            "error_budget_remaining": -14.625,
            "exact": True,
            "threshold_ms": 500.0,
            "timestamp": 1760682600.0,
        }
    ],
    "metric_name": "request_duration_seconds",
    "time_range": "1h",
}

DISTRIBUTION: dict[str, Any] = {
    "status": "success",
    "count": 1,
    "warnings": [],
    "histogram": "classic",
    "partial": False,
    "stale": False,
    "data": [
        {
            "model": "gpt-4",
            "per_second": 2.1333,
            "buckets": [
                {
                    "lower_ms": 0.0,
                    "le_ms": 50.0,
                    "per_second": 0.0667,
                    "share": 0.0312,
                    "cumulative_share": 0.0312,
                },
                {
                    "lower_ms": 50.0,
                    "le_ms": 100.0,
                    "per_second": 0.4,
                    "share": 0.1875,
                    "cumulative_share": 0.2187,
                },
                {
                    "lower_ms": 100.0,
                    "le_ms": 200.0,
                    "per_second": 0.6667,
                    "share": 0.3125,
                    "cumulative_share": 0.5312,
                },
                {
                    "lower_ms": 200.0,
                    "le_ms": 500.0,
                    "per_second": 0.6667,
                    "share": 0.3125,
                    "cumulative_share": 0.8437,
                },
                {
                    "lower_ms": 500.0,
                    "le_ms": 1000.0,
                    "per_second": 0.2667,
                    "share": 0.125,
                    "cumulative_share": 0.9687,
                },
                {
                    "lower_ms": 1000.0,
                    "le_ms": 2000.0,
                    "per_second": 0.0667,
                    "share": 0.0313,
                    "cumulative_share": 1.0,
                },
                {
                    "lower_ms": 2000.0,
                    "le_ms": 5000.0,
                    "per_second": 0.0,
                    "share": 0.0,
                    "cumulative_share": 1.0,
                },
                {
                    "lower_ms": 5000.0,
                    "le_ms": None,
                    "per_second": 0.0,
                    "share": 0.0,
                    "cumulative_share": 1.0,
                },
            ],
            "timestamp": 1760682600.0,
        }
    ],
    "metric_name": "request_duration_seconds",
    "time_range": "5m",
}

DISTRIBUTION_RANGE: dict[str, Any] = {
    "status": "success",
    "count": 1,
    "warnings": [],
    "histogram": "classic",
    "partial": False,
    "stale": False,
    "data": [
        {
            "model": "gpt-4",
            "points": [
                {
                    "timestamp": 1760682300.0,
                    "per_second": 2.1333,
                    "buckets": [
                        {
                            "lower_ms": 0.0,
                            "le_ms": 100.0,
                            "per_second": 0.4667,
                            "share": 0.2187,
                            "cumulative_share": 0.2187,
                        },
                        {
                            "lower_ms": 100.0,
                            "le_ms": 500.0,
                            "per_second": 1.3334,
                            "share": 0.625,
                            "cumulative_share": 0.8437,
                        },
                        {
                            "lower_ms": 500.0,
                            "le_ms": 2000.0,
                            "per_second": 0.3334,
                            "share": 0.1563,
                            "cumulative_share": 1.0,
                        },
                        {
                            "lower_ms": 2000.0,
                            "le_ms": None,
                            "per_second": 0.0,
                            "share": 0.0,
                            "cumulative_share": 1.0,
                        },
                    ],
                },
                {
                    "timestamp": 1760682600.0,
                    "per_second": 2.1333,
                    "buckets": [
                        {
                            "lower_ms": 0.0,
                            "le_ms": 100.0,
                            "per_second": 0.4667,
                            "share": 0.2187,
                            "cumulative_share": 0.2187,
                        },
                        {
                            "lower_ms": 100.0,
                            "le_ms": 500.0,
                            "per_second": 1.3334,
                            "share": 0.625,
                            "cumulative_share": 0.8437,
                        },
                        {
                            "lower_ms": 500.0,
                            "le_ms": 2000.0,
                            "per_second": 0.3334,
                            "share": 0.1563,
                            "cumulative_share": 1.0,
                        },
                        {
                            "lower_ms": 2000.0,
                            "le_ms": None,
                            "per_second": 0.0,
                            "share": 0.0,
                            "cumulative_share": 1.0,
                        },
                    ],
                },
            ],
        }
    ],
    "metric_name": "request_duration_seconds",
    "time_range": "5m",
    "start": 1760682300.0,
    "end": 1760682600.0,
    "step": "5m",
}

MODELS: dict[str, Any] = {
    "status": "success",
    "count": 2,
    "last_updated": "2025-10-17T06:30:00+00:00",
    "warnings": [],
    "partial": False,
    "stale": False,
    "missing": [],
    "data": [
        {
            "model": "llama-3-8b",
            "source": "vllm",
            "status": "danger",
            "latency_ms": {"p50": 900.0, "p95": 1775.0, "p99": 1955.0},
            "ttft_ms": {"p50": 12.5, "p95": 35.0, "p99": 39.0},
            "inter_token_latency_ms": {"p50": 17.5, "p95": 51.25, "p99": 70.25},
            "queue_ms": {"p50": 225.0, "p95": 665.0, "p99": 773.0},
            "requests_per_second": 0.6667,
            "input_tokens_per_second": 80.0,
            "output_tokens_per_second": 20.6667,
            "success_ratio": 0.8,
        },
        {
            "model": "qwen-idle",
            "source": "vllm",
            "status": "idle",
            "latency_ms": {"p50": None, "p95": None, "p99": None},
            "ttft_ms": {"p50": None, "p95": None, "p99": None},
            "inter_token_latency_ms": {"p50": None, "p95": None, "p99": None},
            "queue_ms": {"p50": None, "p95": None, "p99": None},
            "requests_per_second": 0.0,
            "input_tokens_per_second": 0.0,
            "output_tokens_per_second": 0.0,
            "success_ratio": None,
        },
    ],
}

MODELS_RANGE: dict[str, Any] = {
    "status": "success",
    "count": 2,
    "start": 1760682300.0,
    "end": 1760682600.0,
    "step": "5m",
    "warnings": [],
    "partial": False,
    "stale": False,
    "missing": [],
    "data": [
        {
            "model": "llama-3-8b",
            "source": "vllm",
            "signal": "latency_p95",
            "unit": "ms",
            "data_points": [
                {"timestamp": 1760682300.0, "value": 1775.0},
                {"timestamp": 1760682600.0, "value": 1775.0},
            ],
        },
        {
            "model": "qwen-idle",
            "source": "vllm",
            "signal": "latency_p95",
            "unit": "ms",
            "data_points": [
                {"timestamp": 1760682300.0, "value": 480.0},
                {"timestamp": 1760682600.0, "value": None},
            ],
        },
    ],
}
