"""FastAPI dependencies: every ``Annotated`` alias the routers use lives here.

Query parameters are parsed and checked once, by the endpoints' query models
(``app/schemas/queries.py``); the checks that need the server's configuration
(which Prometheus URLs, metrics and model labels a request may name) is here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response

from app.cache.endpoints import ScopeReader
from app.errors import InvalidParameter
from app.params import AllowList, ParameterProblem
from app.promql.upstream import Upstream
from app.schemas.model_queries import ModelsBase, ModelsStreamQuery
from app.schemas.queries import (
    DistributionQuery,
    DistributionRangeQuery,
    HistoryQuery,
    InstantQuery,
    LatencyQuery,
    PercentilesQuery,
    RangeQuery,
    SLOQuery,
    StreamQuery,
)
from app.services.encoding import Encoded
from app.services.latency import Source
from app.services.models import Board
from app.settings import Settings
from app.state import AppState


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_state(request: Request) -> AppState:
    return AppState.of(request)


# The dependencies that read the scope alone, and how: what the cache layer gives the
# cacheable endpoints it calls itself (app/cache/endpoints.py).
FROM_SCOPE: dict[Callable[..., Any], ScopeReader] = {get_state: AppState.of_scope}


SettingsDep = Annotated[Settings, Depends(get_settings)]
StateDep = Annotated[AppState, Depends(get_state)]

InstantQ = Annotated[InstantQuery, Query()]
PercentilesQ = Annotated[PercentilesQuery, Query()]
RangeQ = Annotated[RangeQuery, Query()]
HistoryQ = Annotated[HistoryQuery, Query()]
SLOQ = Annotated[SLOQuery, Query()]
DistributionQ = Annotated[DistributionQuery, Query()]
DistributionRangeQ = Annotated[DistributionRangeQuery, Query()]


def check_allowed(state: AppState, query: LatencyQuery) -> Upstream:
    """The configured upstream the request names; 400 for any other URL, and for a
    metric or model label outside the operator's allow-lists."""
    settings = state.settings
    _allowed(settings.metric_allow_list, "metric_name", query.metric_name)
    _allowed(settings.model_label_allow_list, "model_label", query.model_label)
    return upstream_for(state, query.prometheus_url)


def source_for(state: AppState, query: LatencyQuery) -> Source:
    """What a latency service reads, once ``check_allowed`` has passed the request."""
    settings = state.settings
    return Source(
        check_allowed(state, query),
        settings.fixed_matchers,
        settings.max_response_points,
        state.kinds,
        state.settled,
    )


def scorecard_for(state: AppState, query: ModelsBase) -> Board:
    """What the model scorecard reads: the engine the request names, caches, profiles."""
    settings = state.settings
    return Board(
        upstream_for(state, query.prometheus_url),
        state.cache,
        state.kinds,
        state.metric_names,
        state.profiles,
        settings.fixed_matchers,
        settings.status_warning_ms,
        settings.status_danger_ms,
        settings.max_response_points,
        state.settled,
    )


def _allowed(allow_list: AllowList, parameter: str, name: str) -> None:
    try:
        allow_list.check(name)
    except ParameterProblem as problem:
        raise InvalidParameter(problem.message, parameter=parameter, value=name) from None


def upstream_for(state: AppState, prometheus_url: str | None) -> Upstream:
    if prometheus_url is None:
        return state.default_upstream
    upstream = state.upstreams.get(prometheus_url)
    if upstream is None:
        raise InvalidParameter(
            "must be one of the Prometheus URLs this server allows (PROMETHEUS_URL and "
            "PROMETHEUS_ALLOWED_URLS), such as the default, which needs no parameter",
            parameter="prometheus_url",
            value=prometheus_url[:200],
        )
    return upstream


class EncodedResponse(Response):
    """An answer the service encoded itself (large ones off the event loop). A partial
    one (part of the engine's data) says so, and the cache layer serves it without
    keeping it."""

    media_type = "application/json"

    def __init__(self, answer: Encoded) -> None:
        super().__init__(answer.content)
        self.partial = answer.partial


def encoded_answer(answer: Encoded) -> Response:
    """The response for an answer the service encoded itself (``EncodedResponse``)."""
    return EncodedResponse(answer)


async def allowed_stream(state: StateDep, query: Annotated[StreamQuery, Query()]) -> StreamQuery:
    """The live stream's question, refused with a 400 before the stream starts, as any
    endpoint's (``check_allowed``)."""
    check_allowed(state, query)
    return query


async def allowed_models_stream(
    state: StateDep, query: Annotated[ModelsStreamQuery, Query()]
) -> ModelsStreamQuery:
    """The live scorecard's question, its engine checked before the stream starts."""
    upstream_for(state, query.prometheus_url)
    return query


StreamQ = Annotated[StreamQuery, Depends(allowed_stream)]
ModelsStreamQ = Annotated[ModelsStreamQuery, Depends(allowed_models_stream)]
