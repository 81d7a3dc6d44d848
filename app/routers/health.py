"""Health endpoints for orchestrators, load balancers and the earlier APIs' frontends."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Response

from app.deps import SettingsDep, StateDep
from app.schemas.errors import ErrorResponse
from app.schemas.health import (
    CollectionHealthResponse,
    HealthResponse,
    LivenessResponse,
    ReadinessResponse,
    SystemMetricsResponse,
)
from app.services import health
from app.services.health import HealthMonitor

router = APIRouter(tags=["health"])
UNAVAILABLE = 503
BodyT = TypeVar("BodyT")


async def get_monitor(state: StateDep) -> HealthMonitor:
    return state.health


MonitorDep = Annotated[HealthMonitor, Depends(get_monitor)]


def _unavailable(model: type[Any], description: str) -> dict[int | str, dict[str, Any]]:
    return {UNAVAILABLE: {"model": model, "description": description}}


def _unavailable_unless(ok: bool, body: BodyT, response: Response) -> BodyT:
    """``body`` as it is, with status 503 unless the check passed."""
    if not ok:
        response.status_code = UNAVAILABLE
    return body


@router.get("/health/live", summary="Liveness: the process answers")
async def live(monitor: MonitorDep) -> LivenessResponse:
    """Always 200 while the process can answer; never asks Prometheus.

    `curl http://localhost:8000/health/live`
    """
    return health.liveness(monitor)


@router.get(
    "/health/ready",
    summary="Readiness: Prometheus is ready",
    responses=_unavailable(ReadinessResponse, "Prometheus is not ready; `reason` says why."),
)
async def ready(monitor: MonitorDep, response: Response) -> ReadinessResponse:
    """200 when the configured Prometheus passes its own readiness check, else 503.

    The check's result is reused for `HEALTH_CACHE_SECONDS`.
    `curl -i http://localhost:8000/health/ready`
    """
    body = await health.readiness(monitor)
    return _unavailable_unless(body.status == "ready", body, response)


@router.get(
    "/health",
    summary="Overall health with each dependency's check",
    responses=_unavailable(HealthResponse, "Degraded or unhealthy; `checks` say which part."),
)
async def overall(
    monitor: MonitorDep, settings: SettingsDep, state: StateDep, response: Response
) -> HealthResponse:
    """`healthy` (200), or `degraded` / `unhealthy` (503), with each check's message.

    `curl -i http://localhost:8000/health`
    """
    body = await health.health_report(
        monitor, settings, state.default_upstream.breaker, state.cache.shared
    )
    return _unavailable_unless(body.status == "healthy", body, response)


@router.get(
    "/api/health/",
    summary="Collection health, in the collector API's shape",
    responses=_unavailable(CollectionHealthResponse, "Prometheus gave no usable answer."),
)
async def collection(monitor: MonitorDep, response: Response) -> CollectionHealthResponse:
    """When Prometheus last answered the default P95 query and how many models it had.

    `curl http://localhost:8000/api/health/`
    """
    body = await health.collection_health(monitor)
    return _unavailable_unless(body.status == "healthy", body, response)


SWITCHED_OFF: dict[str, Any] = {
    "model": ErrorResponse,
    "description": "`HEALTH_METRICS_ENABLED` is off: answered as any unknown path.",
    "content": {
        "application/json": {
            "example": {
                "status": "error",
                "error": "Not found",
                "details": {"path": "/health/metrics"},
            }
        }
    },
}


async def require_system_metrics(settings: SettingsDep) -> None:
    """Host readings are for operators: 404, as for any unknown path, unless switched on."""
    if not settings.health_metrics_enabled:
        raise HTTPException(status_code=404)


@router.get(
    "/health/metrics",
    summary="CPU, memory and disk of the process and host (HEALTH_METRICS_ENABLED)",
    dependencies=[Depends(require_system_metrics)],
    responses={404: SWITCHED_OFF},
)
async def system_metrics(monitor: MonitorDep) -> SystemMetricsResponse:
    """A few /proc reads; CPU percentages cover the time since the previous call.
    Off (404) unless `HEALTH_METRICS_ENABLED=true`: it shows the host's memory, disk and
    load, which only operators should see.

    `curl http://localhost:8000/health/metrics`
    """
    return monitor.system.sample()
