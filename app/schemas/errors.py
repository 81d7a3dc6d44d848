from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class ErrorResponse(BaseModel):
    """The body of every error: what went wrong in words, and its context."""

    status: Literal["error"] = "error"
    error: str = Field(description="What went wrong, in words.")
    details: dict[str, Any] = Field(default_factory=dict)


def _example(status: int, error: str, details: dict[str, Any]) -> dict[str, Any]:
    return {
        "model": ErrorResponse,
        "content": {
            "application/json": {
                "example": {"status": "error", "error": error, "details": details},
            }
        },
    }


BAD_REQUEST = _example(
    400,
    "Invalid parameters: percentiles, time_range",
    {
        "errors": [
            {
                "parameter": "percentiles",
                "message": "each percentile must be a number strictly between 0 and 100, "
                "such as 99.9",
                "value": "100",
            },
            {
                "parameter": "time_range",
                "message": "must be a Prometheus duration from 1s to 30d, such as 5m or 1h30m",
                "value": "5 min",
            },
        ]
    },
)
UNAVAILABLE = _example(
    503,
    "1000 live streams are open, the most this server allows (STREAM_MAX_CLIENTS); "
    "retry later or poll /api/metrics/percentiles/",
    {"limit": 1000, "retry_after": 15},
)
UPSTREAM_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: BAD_REQUEST,
    502: _example(
        502,
        "Prometheus rejected the query (bad_data)",
        {"reason": "parse error"},
    ),
    503: _example(503, "Prometheus is unreachable", {"reason": "ConnectError"}),
    504: _example(504, "Prometheus did not answer in time", {}),
}
"""The error responses every Prometheus-backed endpoint declares in OpenAPI."""
