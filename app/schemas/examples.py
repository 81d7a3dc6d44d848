"""Example response bodies for the OpenAPI page, keyed by status code and schema name.

``with_examples(schema)`` puts each one on every operation's response of that status and
schema, unless it already has an example. The examples of the JSON error body live
beside its schema (app/schemas/errors.py). Tests validate every example
against its model, so an example cannot drift from the real shape.
"""

from __future__ import annotations

from typing import Any

from app.schemas.answer_examples import (
    DISTRIBUTION,
    DISTRIBUTION_RANGE,
    MODELS,
    MODELS_RANGE,
    SLO,
)

_AT = 1760682600.0
_ISO = "2025-10-17T06:30:00+00:00"
_COMMON = {
    "status": "success",
    "warnings": [],
    "histogram": "classic",
    "partial": False,
    "stale": False,
}

SUMMARY = {
    **_COMMON,
    "count": 2,
    "data": [
        {
            "model": "gpt-4o",
            "p50_latency_ms": 120.45,
            "p95_latency_ms": 245.67,
            "p99_latency_ms": 350.89,
            "timestamp": _AT,
            "collected_at": _ISO,
            "metric_name": "request_duration_seconds",
            "time_range": "5m",
        },
        {
            "model": "mistral-7b",
            "p50_latency_ms": None,
            "p95_latency_ms": None,
            "p99_latency_ms": None,
            "timestamp": _AT,
            "collected_at": _ISO,
            "metric_name": "request_duration_seconds",
            "time_range": "5m",
        },
    ],
    "last_updated": _ISO,
}

P95 = {
    **_COMMON,
    "count": 1,
    "data": [
        {
            "model": "gpt-4o",
            "p95_latency_ms": 245.67,
            "timestamp": _AT,
            "collected_at": _ISO,
            "metric_name": "request_duration_seconds",
            "time_range": "5m",
        }
    ],
    "last_updated": _ISO,
}

RANGE = {
    **_COMMON,
    "count": 1,
    "data": [
        {
            "model": "gpt-4o",
            "data_points": [
                {"timestamp": _AT - 120, "p95_latency_ms": 240.1},
                {"timestamp": _AT - 60, "p95_latency_ms": 251.3},
                {"timestamp": _AT, "p95_latency_ms": 245.67},
            ],
            "metric_name": "request_duration_seconds",
            "duration": "2m",
            "step": "1m",
        }
    ],
    "start": _AT - 120,
    "end": _AT,
}

PERCENTILES = {
    **_COMMON,
    "count": 1,
    "data": [
        {
            "model": "gpt-4o",
            "percentiles": {"p50": 120.45, "p90": 210.0, "p99.9": 512.3},
            "timestamp": _AT,
        }
    ],
    "metric_name": "request_duration_seconds",
    "time_range": "5m",
}

HISTORY = {
    **_COMMON,
    "count": 1,
    "data": [
        {
            "model": "gpt-4o",
            "data_points": [
                {"timestamp": "2025-10-17T06:00:00+00:00", "p95_latency_ms": 238.2},
                {"timestamp": "2025-10-17T06:30:00+00:00", "p95_latency_ms": 245.67},
            ],
        }
    ],
    "time_range": {
        "start": "2025-10-17T06:00:00+00:00",
        "end": _ISO,
        "hours": 0.5,
        "step": "30m",
    },
}

_CHECK = {"status": "healthy", "message": "ok", "latency_ms": 3.2}

HEALTH = {
    "status": "healthy",
    "timestamp": _AT,
    "version": "0.1.0",
    "environment": "production",
    "service": "model-latency-api",
    "checks": {
        "prometheus": {**_CHECK, "message": "Prometheus answered the P95 query"},
        "application": {**_CHECK, "latency_ms": 0.4},
        "shared_cache": None,
    },
}

LIVENESS = {"status": "alive", "pid": 4242, "uptime_seconds": 3600.5}

READINESS = {
    "status": "ready",
    "reason": None,
    "upstream": "http://localhost:9090",
    "latency_ms": 4.1,
    "checked_at": _ISO,
}

COLLECTION_HEALTH = {
    "status": "healthy",
    "last_collection": _ISO,
    "minutes_ago": 0.2,
    "model_count": 5,
    "error": None,
}

SYSTEM_METRICS = {
    "timestamp": _AT,
    "process": {
        "pid": 4242,
        "cpu_percent": 2.5,
        "memory_rss_bytes": 73_400_320,
        "memory_vms_bytes": 412_000_256,
        "memory_percent": 0.9,
        "threads": 6,
        "open_fds": 17,
        "uptime_seconds": 3600.5,
    },
    "system": {
        "cpu_usage_percent": 12.0,
        "cpu_count": 4,
        "load_average": [0.42, 0.38, 0.31],
        "memory_usage_percent": 41.7,
        "memory_total_bytes": 8_246_337_536,
        "memory_available_bytes": 4_807_000_064,
        "disk_path": "/",
        "disk_usage_percent": 55.0,
        "disk_total_bytes": 107_374_182_400,
        "disk_free_bytes": 48_318_382_080,
    },
}

NOT_READY = {
    "status": "not_ready",
    "reason": "Prometheus is unreachable (ConnectError)",
    "upstream": "http://localhost:9090",
    "latency_ms": 1.2,
    "checked_at": _ISO,
}

UNHEALTHY = {
    **HEALTH,
    "status": "unhealthy",
    "checks": {
        "prometheus": {
            "status": "unhealthy",
            "message": "Prometheus is unreachable",
            "latency_ms": 2001.3,
        },
        "application": {**_CHECK, "latency_ms": 0.4},
        "shared_cache": None,
    },
}

COLLECTION_UNHEALTHY = {
    "status": "unhealthy",
    "last_collection": "2025-10-17T06:12:00+00:00",
    "minutes_ago": 18.0,
    "model_count": 5,
    "error": "Prometheus is unreachable",
}

STATUS_CONFIG = {
    "status": "success",
    "warning_ms": 100.0,
    "danger_ms": 200.0,
    "refresh_seconds": 15.0,
    "slo_threshold_ms": 1000.0,
    "slo_objective": 99.0,
    "latency_histograms": {
        "vllm": {"metric_name": "vllm:e2e_request_latency_seconds", "model_label": "model_name"},
        "default": {"metric_name": "request_duration_seconds", "model_label": "model"},
    },
}

RESPONSE_EXAMPLES: dict[tuple[str, str], dict[str, Any]] = {
    ("200", "SummaryResponse"): SUMMARY,
    ("200", "P95Response"): P95,
    ("200", "RangeResponse"): RANGE,
    ("200", "PercentilesResponse"): PERCENTILES,
    ("200", "HistoryResponse"): HISTORY,
    ("200", "StatusConfig"): STATUS_CONFIG,
    ("200", "SLOResponse"): SLO,
    ("200", "DistributionResponse"): DISTRIBUTION,
    ("200", "DistributionRangeResponse"): DISTRIBUTION_RANGE,
    ("200", "ModelsResponse"): MODELS,
    ("200", "ModelsRangeResponse"): MODELS_RANGE,
    ("200", "HealthResponse"): HEALTH,
    ("200", "LivenessResponse"): LIVENESS,
    ("200", "ReadinessResponse"): READINESS,
    ("200", "CollectionHealthResponse"): COLLECTION_HEALTH,
    ("200", "SystemMetricsResponse"): SYSTEM_METRICS,
    ("503", "HealthResponse"): UNHEALTHY,
    ("503", "ReadinessResponse"): NOT_READY,
    ("503", "CollectionHealthResponse"): COLLECTION_UNHEALTHY,
}
"""(status code, schema name) -> an example body; tests validate each against its model."""

_REF = "#/components/schemas/"


def with_examples(schema: dict[str, Any]) -> dict[str, Any]:
    """Give each JSON response an example body if it has none and one is known (in place)."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                media = response.get("content", {}).get("application/json")
                if media is None or "example" in media or "examples" in media:
                    continue
                ref = media.get("schema", {}).get("$ref", "")
                example = RESPONSE_EXAMPLES.get((status, ref.removeprefix(_REF)))
                if example is not None:
                    media["example"] = example
    return schema
