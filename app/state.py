"""What the lifespan opens and every request shares."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from starlette.requests import HTTPConnection

from app.cache import ResponseCache
from app.promql.client import PrometheusClient
from app.services.health import HealthMonitor


@dataclass(slots=True)
class AppState:
    """The shared HTTP client, one Prometheus client per allowed URL, and the cache."""

    http: httpx.AsyncClient
    prometheus: dict[str, PrometheusClient]
    default_prometheus: PrometheusClient
    cache: ResponseCache
    # The health checks' cached results and the last successful P95 probe.
    health: HealthMonitor | None = None

    @staticmethod
    def of(connection: HTTPConnection) -> AppState:
        state: AppState = connection.state.app
        return state
