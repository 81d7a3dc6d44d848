"""The one place that says which path a request is for, behind a proxy or not.

A reverse proxy that strips a prefix (``/latency/api/...`` forwarded as ``/api/...``)
runs the service with ``--root-path /latency``; uvicorn then hands the app
``scope["path"] == "/latency/api/..."`` and ``scope["root_path"] == "/latency"``.
Routing, cache keys and metric labels use ``route_path``: the path without the prefix,
spelled as the route is declared (``/api/...`` with a trailing slash, everything else
without one), so both spellings answer with no redirect. ``ROOT_PATH`` set in the
environment does what ``--root-path`` does (``with_root``), and a request the service
makes to itself keeps the prefix (``own_path``).

>>> route_path({"path": "/latency/api/metrics/p95", "root_path": "/latency"})
'/api/metrics/p95/'
>>> own_path({"root_path": "/latency"}, "/api/metrics/percentiles/")
'/latency/api/metrics/percentiles/'
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import fastapi.routing
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

SLASHED_PREFIX = "/api/"


def canonical_path(path: str) -> str:
    if path.startswith(SLASHED_PREFIX):
        return path if path.endswith("/") else path + "/"
    return path.rstrip("/") or "/"


def route_path(scope: Scope) -> str:
    """The declared spelling of the path the request names, without ``root_path``."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :] or "/"
    return canonical_path(path)


def with_root(scope: Scope, prefix: str) -> None:
    """Put ``prefix`` (the ``ROOT_PATH`` setting) in ``scope`` as uvicorn's ``--root-path``
    would, unless a root path is there already."""
    if prefix and scope["type"] in ("http", "websocket") and not scope.get("root_path"):
        scope["root_path"] = prefix
        scope["path"] = prefix + scope["path"]


def own_path(scope: Scope, path: str) -> str:
    """The full path of ``path`` (a route path) for a request made under ``scope``'s prefix."""
    root: str = scope.get("root_path", "")
    return root + path


class TrailingSlashMiddleware:
    """Hand the router the declared spelling of the path (the prefix kept in front)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope.get("root_path", "") + route_path(scope)
            if path != scope["path"]:
                scope = {**scope, "path": path}
                scope.pop("raw_path", None)
        await self.app(scope, receive, send)


def flat_routes(routes: Sequence[BaseRoute]) -> Iterable[Any]:
    """Every route with its full path, through FastAPI's included routers.

    Recent FastAPI keeps an included router as one entry of ``app.routes`` and offers
    ``iter_route_contexts`` to walk it; older versions list every route flat.
    """
    walk = getattr(fastapi.routing, "iter_route_contexts", None)
    return walk(routes) if walk is not None else routes
