"""Response bodies of the health endpoints (shapes from the earlier systems' probes)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

HealthStatus = Literal["healthy", "degraded", "unhealthy"]


class CheckResult(BaseModel):
    status: HealthStatus
    message: str
    latency_ms: float | None = Field(description="How long the check took, in milliseconds.")


class HealthChecks(BaseModel):
    prometheus: CheckResult = Field(
        description="The configured Prometheus answering the default P95 query."
    )
    application: CheckResult = Field(
        description="This process; latency is one round trip of its event loop."
    )
    shared_cache: CheckResult | None = Field(
        default=None,
        description="The shared cache (SHARED_CACHE_URL) when one is configured; degraded "
        "while it is down, when each replica answers from its own cache.",
    )


class HealthResponse(BaseModel):
    """The overall picture: the worst of the checks."""

    status: HealthStatus
    timestamp: float = Field(description="When this answer was made, unix seconds.")
    version: str
    environment: str
    service: str
    checks: HealthChecks


class LivenessResponse(BaseModel):
    status: Literal["alive"] = "alive"
    pid: int = Field(description="The worker process that answered.")
    uptime_seconds: float


class ReadinessResponse(BaseModel):
    status: Literal["ready", "not_ready"]
    reason: str | None = Field(description="Why not ready; null when ready.")
    upstream: str | None = Field(
        default=None,
        description="The Prometheus asked, without credentials; only with EXPOSE_UPSTREAM=true.",
    )
    latency_ms: float | None
    checked_at: str = Field(
        description="When Prometheus was last asked (ISO 8601); answers are reused briefly."
    )


class CollectionHealthResponse(BaseModel):
    """The collector API's health body, for frontends written against it."""

    status: Literal["healthy", "unhealthy"]
    last_collection: str | None = Field(
        description="Last time Prometheus answered the default P95 query (ISO 8601); "
        "null if it never has since this process started."
    )
    minutes_ago: float | None = Field(description="Minutes since `last_collection`.")
    model_count: int | None = Field(description="Models in that answer.")
    error: str | None = Field(default=None, description="Why unhealthy; null when healthy.")


class ProcessStats(BaseModel):
    pid: int
    cpu_percent: float = Field(description="Since the previous call (100 = one full core).")
    memory_rss_bytes: int
    memory_vms_bytes: int
    memory_percent: float
    threads: int
    open_fds: int
    uptime_seconds: float


class HostStats(BaseModel):
    cpu_usage_percent: float = Field(description="All cores, since the previous call.")
    cpu_count: int
    load_average: list[float] = Field(description="1, 5 and 15 minutes.")
    memory_usage_percent: float
    memory_total_bytes: int
    memory_available_bytes: int
    disk_path: str
    disk_usage_percent: float
    disk_total_bytes: int
    disk_free_bytes: int


class SystemMetricsResponse(BaseModel):
    timestamp: float = Field(description="Unix seconds.")
    process: ProcessStats = Field(description="The worker process that answered.")
    system: HostStats
