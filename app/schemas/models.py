"""Response bodies of the model scorecard endpoints (``/api/models/``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

LATENCY_EXAMPLE: dict[str, Any] = {"p50": 812.5, "p95": 2140.0, "p99": 3975.2}
Latency = dict[str, float | None] | None


def _latency(what: str, example: dict[str, Any]) -> Any:
    return Field(
        description=f"{what}, in milliseconds: the percentiles asked (`p50`, `p95`, `p99` by "
        'default; null without traffic in the window), or `{"mean": ...}` where the '
        "exporter has only a sum and a count. Null when the source has no such metric.",
        examples=[example],
    )


TTFT_EXAMPLE: dict[str, Any] = {"p50": 41.2, "p95": 180.0, "p99": 240.5}
ITL_EXAMPLE: dict[str, Any] = {"p50": 12.1, "p95": 24.0, "p99": 31.7}
QUEUE_EXAMPLE: dict[str, Any] = {"p50": 0.4, "p95": 3.1, "p99": 12.0}


class ModelValues(BaseModel):
    """A row's value fields, as ``previous`` and ``change_pct`` repeat them (``compare``)."""

    latency_ms: Latency = None
    ttft_ms: Latency = None
    inter_token_latency_ms: Latency = None
    queue_ms: Latency = None
    requests_per_second: float | None = None
    input_tokens_per_second: float | None = None
    output_tokens_per_second: float | None = None
    success_ratio: float | None = None


class ModelRow(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "model": "meta-llama/Llama-3.1-8B-Instruct",
                    "source": "vllm",
                    "status": "danger",
                    "latency_ms": LATENCY_EXAMPLE,
                    "ttft_ms": TTFT_EXAMPLE,
                    "inter_token_latency_ms": ITL_EXAMPLE,
                    "queue_ms": QUEUE_EXAMPLE,
                    "requests_per_second": 4.2,
                    "input_tokens_per_second": 2210.5,
                    "output_tokens_per_second": 611.9,
                    "success_ratio": 0.995,
                }
            ]
        }
    )

    model: str = Field(description="The model, as the source's model label names it.")
    source: str = Field(description="The profile that answered this row (`vllm`, `tgi`...).")
    status: Literal["good", "warning", "danger", "idle"] = Field(
        description="From the p95 latency (the mean where there are no percentiles): below "
        "STATUS_WARNING_MS good, below STATUS_DANGER_MS warning, else danger; idle with no "
        "requests or no latency in the window."
    )
    latency_ms: Latency = _latency("End-to-end request latency", LATENCY_EXAMPLE)
    ttft_ms: Latency = _latency("Time to first token", TTFT_EXAMPLE)
    inter_token_latency_ms: Latency = _latency("Time between tokens of a stream", ITL_EXAMPLE)
    queue_ms: Latency = _latency("Time waiting before being scheduled", QUEUE_EXAMPLE)
    requests_per_second: float | None = Field(
        description="Finished requests per second over the window (all outcomes); 0 when "
        "idle, null when the source has no request count.",
        examples=[4.2],
    )
    input_tokens_per_second: float | None = Field(
        description="Prompt tokens per second over the window.", examples=[2210.5]
    )
    output_tokens_per_second: float | None = Field(
        description="Generated tokens per second over the window.", examples=[611.9]
    )
    success_ratio: float | None = Field(
        description="Successful finished requests / all finished requests in the window, "
        "0..1; null when idle or when the outcome cannot be joined to the model.",
        examples=[0.995],
    )
    previous: ModelValues | None = Field(
        default=None,
        description="With `compare`: the row's value fields at `time` minus `compare` (a "
        "question about now: that instant aligned down to the minute); null values where "
        "the model had no row then.",
    )
    change_pct: ModelValues | None = Field(
        default=None,
        description="With `compare`: the same keys, the change from `previous` in percent "
        "(latency percentiles key by key); null where either side is null or the previous "
        "value is 0.",
    )


class ModelsResponse(BaseModel):
    status: Literal["success"] = "success"
    data: list[ModelRow]
    count: int = Field(description="Number of rows in `data`.")
    last_updated: str = Field(description="Evaluation time, ISO 8601.")
    warnings: list[str] = Field(
        description="What the answer should be read with: a signal that failed, a summary's "
        "own window, a source lacking a signal, the engine's own warnings.",
    )
    partial: bool = Field(
        description="True when a signal's query failed (it is null) or the engine answered "
        "from part of its data; such answers are never cached.",
    )
    stale: bool = Field(
        description="True when Prometheus could not be reached and this is the last good answer.",
    )
    missing: list[str] = Field(
        description="Signals no source has: null in every row.",
        examples=[["queue"]],
    )


class SignalPoint(BaseModel):
    timestamp: float = Field(description="Unix seconds.")
    value: float | None = Field(
        description="Milliseconds for latency series, per second for rates, 0..1 for "
        "success_ratio; null where there is no answer."
    )


class ModelSeries(BaseModel):
    model: str = Field(description="The model, as the source's model label names it.")
    source: str = Field(description="The profile that answered this series.")
    signal: str = Field(
        description="As asked: `latency_p95`, `ttft_mean`, `output_tokens_per_second`...",
        examples=["latency_p95"],
    )
    unit: Literal["ms", "per_second", "ratio"] = Field(
        description="`ms` for latency series, `per_second` for rates, `ratio` (0..1) for "
        "success_ratio."
    )
    data_points: list[SignalPoint]


class ModelsRangeResponse(BaseModel):
    status: Literal["success"] = "success"
    data: list[ModelSeries]
    count: int = Field(description="Number of series in `data`.")
    start: float = Field(description="First point, unix seconds.")
    end: float = Field(description="Last point, unix seconds.")
    step: str = Field(description="Distance between points, as asked.", examples=["1m"])
    warnings: list[str] = Field(
        description="What the answer should be read with (a series that failed, a "
        "summary's own window, the engine's own warnings)."
    )
    partial: bool = Field(
        description="True when a series' query failed (it is left out) or the engine "
        "answered from part of its data; such answers are never cached."
    )
    stale: bool = Field(
        description="True when Prometheus could not be reached and this is the last good answer."
    )
    missing: list[str] = Field(description="Series asked that no source has.")
