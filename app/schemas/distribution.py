"""Response bodies of ``/api/metrics/distribution/`` and its range (heatmaps)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.schemas.metrics import Envelope


class BucketItem(BaseModel):
    lower_ms: float | None = Field(
        description="Lower bound in milliseconds (exclusive); null for -Inf. Classic "
        "histograms: the previous bucket's bound, 0 below the lowest bound."
    )
    le_ms: float | None = Field(
        description="Upper bound in milliseconds (inclusive); null for +Inf."
    )
    per_second: float | None = Field(
        description="Rate of requests that fell in this bucket (not cumulative)."
    )
    share: float | None = Field(description="Share of the model's requests in this bucket.")
    cumulative_share: float | None = Field(
        description="Share of the model's requests at or below `le_ms`."
    )


class DistributionItem(BaseModel):
    model: str
    per_second: float | None = Field(description="Rate of all the model's requests.")
    buckets: list[BucketItem] = Field(description="Sorted by upper bound.")
    timestamp: float = Field(description="Evaluation time, unix seconds.")


class DistributionResponse(Envelope):
    data: list[DistributionItem]
    metric_name: str
    time_range: str


class DistributionPoint(BaseModel):
    timestamp: float = Field(description="Unix seconds.")
    per_second: float | None
    buckets: list[BucketItem]


class DistributionSeries(BaseModel):
    model: str
    points: list[DistributionPoint]


class DistributionRangeResponse(Envelope):
    data: list[DistributionSeries]
    metric_name: str
    time_range: str
    start: float = Field(description="First step, unix seconds.")
    end: float = Field(description="Last step, unix seconds.")
    step: str
