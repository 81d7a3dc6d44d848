"""Response body of ``/api/metrics/slo/``: SLO attainment and Apdex per model."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.schemas.metrics import CHANGE, PREVIOUS, Envelope

Share = float | None
"""0..1; null when the model had no requests in the window."""


class SLOValues(BaseModel):
    """The value fields of a row, as ``previous`` repeats them."""

    share_under_threshold: Share = Field(
        description="Share of the window's requests at or below `threshold_ms` (0..1)."
    )
    apdex: Share = Field(
        default=None,
        description="Apdex for `apdex_t_ms` (only when asked): (satisfied + tolerating / 2) "
        "/ total, satisfied at or below T, tolerating at or below 4T.",
    )


class SLOChange(BaseModel):
    share_under_threshold: float | None = None
    apdex: float | None = None


class SLOItem(SLOValues):
    model: str
    objective: float = Field(description="The objective as a share (0..1).")
    met: bool | None = Field(description="share_under_threshold >= objective; null when idle.")
    requests: float | None = Field(
        description="Requests in the window, from the histogram's count (rate times window)."
    )
    error_budget_remaining: float | None = Field(
        description="Share of the window's allowed slow requests still unused: "
        "1 - (1 - share) / (1 - objective); negative once overspent. With a 100% "
        "objective: 1 while no request was slow, else null."
    )
    exact: bool | None = Field(
        description="True when `threshold_ms` is a bucket bound (the share is exact), false "
        "when it was interpolated inside a bucket; null when idle."
    )
    threshold_ms: float
    timestamp: float = Field(description="Evaluation time, unix seconds.")
    previous: SLOChange | None = Field(default=None, description=PREVIOUS)
    change_pct: SLOChange | None = Field(default=None, description=CHANGE)


class SLOResponse(Envelope):
    data: list[SLOItem]
    metric_name: str
    time_range: str
