"""The status page's configuration, served as JSON to the page."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


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
