"""The cacheable routes: what the cache layer keys an answer by, and calls to make one.

A cacheable route is a GET whose endpoint takes one query model (a subclass of the
base the caller names, not marked ``cacheable = False``) and otherwise only
dependencies that read the request's scope, such as the app state. On a miss the cache
layer calls that endpoint itself with the query model it parsed for the key, instead of
running the request through FastAPI, which would route it again, parse the same
parameters again and solve the dependencies per request (docs/performance.md, "A miss
rendered without FastAPI"). FastAPI still documents the route (OpenAPI), answers its
400s and answers it whenever the cache layer passes a request on.

    routes = cacheable_routes(app.routes, LatencyQuery, {get_state: AppState.of_scope})
    response = await routes["/api/metrics/p95/"].respond(scope, query)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from fastapi.dependencies.models import Dependant
from pydantic import BaseModel, ValidationError
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import Scope

from app.http.paths import flat_routes
from app.schemas.cache_keys import query_input

ScopeReader = Callable[[Scope], object]
"""What a dependency gives, read from the request's scope alone."""


@dataclass(frozen=True, slots=True)
class CachedRoute:
    """A cacheable route: its path, its query model, and its endpoint with how to call it."""

    path: str
    model: type[BaseModel]
    endpoint: Callable[..., Awaitable[Response]]
    query_name: str
    from_scope: tuple[tuple[str, ScopeReader], ...] = ()

    def parse(self, query: bytes) -> BaseModel | None:
        """The query model of a raw query string, or None if a parameter is bad."""
        # As Starlette parses it: escapes decoded as UTF-8, invalid bytes replaced.
        pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
        try:
            return self.model.model_validate(query_input(self.model, pairs))
        except ValidationError:
            return None

    async def respond(self, scope: Scope, query: BaseModel) -> Response:
        """What the endpoint answers ``query`` with, in the request ``scope``."""
        arguments: dict[str, Any] = {name: read(scope) for name, read in self.from_scope}
        arguments[self.query_name] = query
        return await self.endpoint(**arguments)


def cacheable_routes(
    routes: Sequence[BaseRoute],
    base: type[BaseModel],
    from_scope: Mapping[Callable[..., Any], ScopeReader],
) -> dict[str, CachedRoute]:
    """Route path -> ``CachedRoute`` for every cacheable GET route taking a ``base`` model.

    ``from_scope``: the dependencies the cache layer may give an endpoint (dependency ->
    what reads its value from the scope). A route taking anything else is not cacheable.
    """
    found: dict[str, CachedRoute] = {}
    for route in flat_routes(routes):  # (FastAPI's routes, or what it walks them with)
        dependant = getattr(route, "dependant", None)
        endpoint = getattr(route, "endpoint", None)
        if dependant is None or endpoint is None or "GET" not in (route.methods or ()):
            continue
        cached = _cached(route.path, dependant, endpoint, base, from_scope)
        if cached is not None:
            found[cached.path] = cached
    return found


def _cached(
    path: str,
    dependant: Dependant,
    endpoint: Callable[..., Awaitable[Response]],
    base: type[BaseModel],
    from_scope: Mapping[Callable[..., Any], ScopeReader],
) -> CachedRoute | None:
    if len(dependant.query_params) != 1 or _takes_more(dependant):
        return None
    param = dependant.query_params[0]
    model = param.field_info.annotation
    if not (isinstance(model, type) and issubclass(model, base)):
        return None
    if not getattr(model, "cacheable", True):
        return None
    readers: list[tuple[str, ScopeReader]] = []
    for needed in dependant.dependencies:
        read = from_scope.get(needed.call) if needed.call is not None else None
        if read is None or needed.name is None:
            return None
        readers.append((needed.name, read))
    return CachedRoute(path, model, endpoint, param.name, tuple(readers))


def _takes_more(dependant: Dependant) -> bool:
    """Whether the endpoint takes anything but query parameters and dependencies."""
    params = (
        dependant.path_params,
        dependant.header_params,
        dependant.cookie_params,
        dependant.body_params,
    )
    special = (
        dependant.request_param_name,
        dependant.websocket_param_name,
        dependant.http_connection_param_name,
        dependant.response_param_name,
        dependant.background_tasks_param_name,
        dependant.security_scopes_param_name,
    )
    return any(params) or any(name is not None for name in special)
