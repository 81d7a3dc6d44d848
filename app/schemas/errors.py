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
    "Invalid parameter 'time_range': expected a Prometheus duration such as 30s, 5m, 1h or 1h30m",
    {"parameter": "time_range", "message": "expected a Prometheus duration", "value": "5 min"},
)
UPSTREAM_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: BAD_REQUEST,
    502: _example(
        502,
        "Prometheus rejected the query (bad_data)",
        {"upstream": "http://localhost:9090", "reason": "parse error"},
    ),
    503: _example(
        503, "Prometheus is unreachable", {"upstream": "http://localhost:9090", "reason": "refused"}
    ),
    504: _example(504, "Prometheus did not answer in time", {"upstream": "http://localhost:9090"}),
}
"""The error responses every Prometheus-backed endpoint declares in OpenAPI."""
