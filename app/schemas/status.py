"""The status page's configuration, served as JSON to the page."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class LatencyHistogram(BaseModel):
    metric_name: str = Field(description="The `metric_name` to ask for this source's rows.")
    model_label: str = Field(description="The `model_label` to ask with it.")


class StatusConfig(BaseModel):
    """How the status page colours models and how often it refreshes."""

    status: Literal["success"] = "success"
    warning_ms: float = Field(
        description="A p95 at or above this (milliseconds) is a warning (`STATUS_WARNING_MS`)."
    )
    danger_ms: float = Field(
        description="A p95 at or above this (milliseconds) is danger (`STATUS_DANGER_MS`)."
    )
    refresh_seconds: float = Field(
        description="How often the page reloads its data (`STATUS_REFRESH_SECONDS`)."
    )
    slo_threshold_ms: float = Field(
        description="The model page's first SLO threshold, milliseconds "
        "(`STATUS_SLO_THRESHOLD_MS`); the viewer can change it."
    )
    slo_objective: float = Field(
        description="The model page's first SLO objective, percent (`STATUS_SLO_OBJECTIVE`)."
    )
    latency_histograms: dict[str, LatencyHistogram] = Field(
        description="Per profile, the latency histogram `/api/metrics/slo/` and "
        "`/api/metrics/distribution/` read for that source's rows (its preferred name).",
        examples=[
            {
                "vllm": {
                    "metric_name": "vllm:e2e_request_latency_seconds",
                    "model_label": "model_name",
                }
            }
        ],
    )
