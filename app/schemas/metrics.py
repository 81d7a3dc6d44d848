"""Response bodies of the /api/metrics endpoints.

They keep the shapes of the earlier APIs that frontends were written against:
the live API's ``timestamp`` (unix seconds) and the collector's ``collected_at``
and ``last_updated`` (ISO 8601) are both present.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.params import HistogramKind

LatencyMs = float | None
"""Milliseconds; null when Prometheus has no answer (no traffic in the window)."""
PREVIOUS = (
    "With `compare`: the row's value fields at `time` minus `compare` (a question about "
    "now: that instant aligned down to the minute)."
)
CHANGE = (
    "With `compare`: the same keys, the change from `previous` in percent; null where "
    "either side is null or the previous value is 0."
)


class Envelope(BaseModel):
    status: Literal["success"] = "success"
    count: int = Field(description="Number of entries in `data`.")
    warnings: list[str] = Field(
        default_factory=list, description="Warnings Prometheus attached to its answer."
    )
    histogram: HistogramKind = Field(
        default="classic",
        description="Which kind of histogram answered: classic (`<metric>_bucket` series) or "
        "native (Prometheus native or OpenTelemetry exponential histograms).",
    )
    partial: bool = Field(
        default=False,
        description="True when the engine answered from part of its data (Thanos, Mimir "
        "and Cortex say so in their warnings); such answers are never cached.",
    )
    stale: bool = Field(
        default=False,
        description="True when Prometheus could not be reached and this is the last good answer.",
    )


class P95Values(BaseModel):
    p95_latency_ms: LatencyMs = None


class P95Item(BaseModel):
    model: str
    p95_latency_ms: LatencyMs
    timestamp: float = Field(description="Evaluation time, unix seconds.")
    collected_at: str = Field(description="Evaluation time, ISO 8601.")
    metric_name: str
    time_range: str
    previous: P95Values | None = Field(default=None, description=PREVIOUS)
    change_pct: P95Values | None = Field(default=None, description=CHANGE)


class P95Response(Envelope):
    data: list[P95Item]
    last_updated: str = Field(description="Evaluation time, ISO 8601.")


class RangePoint(BaseModel):
    timestamp: float = Field(description="Unix seconds.")
    p95_latency_ms: LatencyMs


class RangeSeriesItem(BaseModel):
    model: str
    data_points: list[RangePoint]
    metric_name: str
    duration: str
    step: str


class RangeResponse(Envelope):
    data: list[RangeSeriesItem]
    start: float = Field(description="First point, unix seconds.")
    end: float = Field(description="Last point, unix seconds.")


class PercentileValues(BaseModel):
    percentiles: dict[str, LatencyMs] = Field(default_factory=dict)


class PercentileItem(BaseModel):
    model: str
    percentiles: dict[str, LatencyMs] = Field(
        description="Keyed `p50`, `p95`, `p99.9`…, in milliseconds.",
        examples=[{"p50": 120.45, "p95": 245.67, "p99": 350.89}],
    )
    timestamp: float
    previous: PercentileValues | None = Field(default=None, description=PREVIOUS)
    change_pct: PercentileValues | None = Field(default=None, description=CHANGE)


class PercentilesResponse(Envelope):
    data: list[PercentileItem]
    metric_name: str
    time_range: str


class SummaryValues(BaseModel):
    p50_latency_ms: LatencyMs = None
    p95_latency_ms: LatencyMs = None
    p99_latency_ms: LatencyMs = None


class SummaryItem(BaseModel):
    model: str
    p50_latency_ms: LatencyMs
    p95_latency_ms: LatencyMs
    p99_latency_ms: LatencyMs
    timestamp: float
    collected_at: str
    metric_name: str
    time_range: str
    previous: SummaryValues | None = Field(default=None, description=PREVIOUS)
    change_pct: SummaryValues | None = Field(default=None, description=CHANGE)


class SummaryResponse(Envelope):
    data: list[SummaryItem]
    last_updated: str


class HistoryPoint(BaseModel):
    timestamp: str = Field(description="ISO 8601.")
    p95_latency_ms: LatencyMs


class HistorySeriesItem(BaseModel):
    model: str
    data_points: list[HistoryPoint]


class HistoryWindow(BaseModel):
    start: str
    end: str
    hours: float
    step: str


class HistoryResponse(Envelope):
    data: list[HistorySeriesItem]
    time_range: HistoryWindow
