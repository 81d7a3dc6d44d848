"""The cache layer calls cacheable endpoints itself (``app/cache/endpoints.py``).

Which routes it may call, what the call passes, and that an endpoint's exception gets
the answer FastAPI's installed handlers would give it (``handlers.translated``).
"""

# ruff: noqa: ARG001 (the toy endpoints take what they are classified by)
from __future__ import annotations

from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Query, Request, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.cache.endpoints import cacheable_routes
from app.deps import FROM_SCOPE, get_state
from app.errors import (
    InvalidParameter,
    TooManyStreams,
    UpstreamBadResponse,
    UpstreamTimeout,
)
from app.factory import create_app
from app.http import handlers
from app.http.paths import flat_routes
from app.schemas.model_queries import ModelsBase
from app.schemas.queries import InstantQuery, LatencyQuery, PercentilesQuery, StreamQuery
from app.settings import Settings
from app.state import AppState

StateDep = Annotated[AppState, Depends(get_state)]


async def other_dependency() -> int:
    return 1


def toy_app() -> FastAPI:
    """Endpoints classified by what they take; only ``plain`` uses its arguments."""
    app = FastAPI()

    @app.get("/plain/")
    async def plain(state: StateDep, query: Annotated[InstantQuery, Query()]) -> Response:
        return Response(repr((state, query.metric_name)))

    @app.get("/request/")
    async def with_request(
        request: Request, state: StateDep, query: Annotated[InstantQuery, Query()]
    ) -> Response:
        return Response(b"")

    @app.get("/other/")
    async def with_other(
        other: Annotated[int, Depends(other_dependency)], query: Annotated[InstantQuery, Query()]
    ) -> Response:
        return Response(b"")

    @app.get("/stream/")
    async def stream(state: StateDep, query: Annotated[StreamQuery, Query()]) -> Response:
        return Response(b"")

    @app.post("/posted/")
    async def posted(state: StateDep, query: Annotated[InstantQuery, Query()]) -> Response:
        return Response(b"")

    @app.get("/no-model/")
    async def no_model(state: StateDep, metric_name: str) -> Response:
        return Response(b"")

    return app


def test_only_routes_taking_a_query_model_and_scope_dependencies_are_called_directly():
    routes = cacheable_routes(toy_app().routes, LatencyQuery, FROM_SCOPE)
    assert list(routes) == ["/plain/"]
    plain = routes["/plain/"]
    assert (plain.model, plain.query_name) == (InstantQuery, "query")
    assert [name for name, _ in plain.from_scope] == ["state"]


async def test_the_call_passes_the_parsed_model_and_the_state_from_the_scope():
    plain = cacheable_routes(toy_app().routes, LatencyQuery, FROM_SCOPE)["/plain/"]
    query = plain.parse(b"metric_name=ttft_seconds&time_range=10m")
    assert isinstance(query, InstantQuery)
    assert (query.metric_name, query.time_range) == ("ttft_seconds", "10m")
    assert plain.parse(b"time_range=ten minutes") is None
    marker = object()
    response = await plain.respond({"state": {"app": marker}}, query)
    assert response.body == repr((marker, "ttft_seconds")).encode()


def test_every_cacheable_route_of_the_service_is_called_directly():
    """Each GET route whose query model is cacheable (the models the cache keys by) is
    found, so none of them falls back to not being cached."""
    app = create_app(Settings(prometheus_url="http://prometheus.test:9090"))
    expected = {
        route.path
        for route in flat_routes(app.routes)
        if "GET" in (getattr(route, "methods", None) or ()) and hasattr(route, "dependant")
        for param in route.dependant.query_params
        if _cacheable_model(param.field_info.annotation)
    }
    found = {
        **cacheable_routes(app.routes, LatencyQuery, FROM_SCOPE),
        **cacheable_routes(app.routes, ModelsBase, FROM_SCOPE),
    }
    assert "/api/metrics/p95/" in expected
    assert "/api/models/" in expected
    assert set(found) == expected
    assert found["/api/metrics/percentiles/"].model is PercentilesQuery


def _cacheable_model(model: object) -> bool:
    return (
        isinstance(model, type)
        and issubclass(model, (LatencyQuery, ModelsBase))
        and getattr(model, "cacheable", True)
    )


EXCEPTIONS: list[Exception] = [
    InvalidParameter("must be one of the allowed metrics", parameter="metric_name", value="x"),
    UpstreamTimeout("Prometheus did not answer in time", upstream="http://p:9090"),
    UpstreamBadResponse("Prometheus answered 422", upstream="http://p:9090", reason="bad"),
    TooManyStreams(3, retry_after=7),
    StarletteHTTPException(404),
    RuntimeError("a bug"),
]


@pytest.mark.parametrize("exc", EXCEPTIONS, ids=lambda e: type(e).__name__)
async def test_an_exception_gets_the_answer_fastapis_handlers_give_it(exc: Exception):
    app = FastAPI()
    handlers.install(app)
    app.state.settings = Settings(prometheus_url="http://p:9090", expose_upstream=False)

    @app.get("/raises/")
    async def raises() -> Response:
        raise exc

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        through_fastapi = await client.get("/raises/")
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": "/raises/",
        "raw_path": b"/raises/",
        "query_string": b"",
        "headers": [],
        "app": app,
    }
    translated = await handlers.translated(scope, exc)
    assert translated.status_code == through_fastapi.status_code
    assert translated.body == through_fastapi.content
    assert dict(translated.headers) == dict(through_fastapi.headers)
    assert through_fastapi.json()["status"] == "error"
