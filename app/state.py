"""What the lifespan opens and every request shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

import httpx
from starlette.requests import HTTPConnection
from starlette.types import Scope

from app.cache.core import ResponseCache
from app.http.stream import StreamHub
from app.profiles.detect import MetricNames
from app.profiles.loader import ProfileRegistry
from app.promql.upstream import Upstream
from app.services.health import HealthMonitor
from app.services.kinds import HistogramKinds
from app.services.settled import SettledCache
from app.settings import Settings


@dataclass(slots=True)
class AppState:
    """Everything the request path needs, opened and closed by the lifespan.

    ``upstreams``: one per allowed Prometheus URL (keyed by its normalised URL),
    ``cache``: the response cache the HTTP cache layer answers from, ``kinds``: which
    kind of histogram each metric has, remembered.
    """

    settings: Settings
    http: httpx.AsyncClient
    upstreams: dict[str, Upstream]
    default_upstream: Upstream
    cache: ResponseCache
    health: HealthMonitor
    kinds: HistogramKinds
    streams: StreamHub
    settled: SettledCache  # evaluations in the settled past (compare=)
    profiles: ProfileRegistry  # the model scorecard's exporter profiles (app/profiles)
    metric_names: MetricNames

    @staticmethod
    def of(connection: HTTPConnection) -> AppState:
        return AppState.of_scope(connection.scope)

    @staticmethod
    def of_scope(scope: Scope) -> AppState:
        state: AppState = scope["state"]["app"]
        return state


class LifespanState(TypedDict):
    """What the lifespan yields: Starlette copies it into every request's scope
    (``scope["state"]["app"]``, ``request.state.app``)."""

    app: AppState
