"""Pure-ASGI request metrics: count, duration and in-flight requests per route template.

The ``handler`` label is the route template the path matches (``route_path``, so
``/api/metrics/p95`` and ``/api/metrics/p95/`` and any proxy prefix share a label),
never the raw path. Answers of the HTTP cache layer (``app/cache/layer.py``) are
counted there, with the same labels; its renders never pass through here.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

from starlette.routing import BaseRoute, Mount, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http.paths import flat_routes, route_path
from app.observability.metrics import ServiceMetrics

UNMATCHED = "unmatched"
OTHER_METHOD = "other"
KNOWN_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"}
)


def method_label(method: str) -> str:
    """The method, or ``other``: a client inventing methods must not invent series."""
    return method if method in KNOWN_METHODS else OTHER_METHOD


class HandlerLabels:
    """Route template for a request path; every path no route matches is ``unmatched``.

    >>> HandlerLabels(["/api/metrics/p95/", "/items/{id}"], mounts=["/static"]).label("/items/7")
    '/items/{id}'
    """

    def __init__(self, templates: Iterable[str], mounts: Iterable[str] = ()) -> None:
        templates = list(templates)
        # Plain paths (all of this app's routes) are one dict lookup; templates with
        # parameters fall back to Starlette's own path regex.
        self._exact = {t for t in templates if "{" not in t}
        self._patterned = [(compile_path(t)[0], t) for t in templates if "{" in t]
        self._mounts = sorted({m.rstrip("/") for m in mounts}, key=len, reverse=True)

    @classmethod
    def of_routes(cls, routes: Sequence[BaseRoute]) -> HandlerLabels:
        templates: list[str] = []
        mounts: list[str] = []
        for route in flat_routes(routes):
            path = getattr(route, "path", None)
            if isinstance(path, str):
                is_mount = isinstance(getattr(route, "original_route", route), Mount)
                (mounts if is_mount else templates).append(path)
        return cls(templates, mounts)

    def label(self, path: str) -> str:
        if path in self._exact:
            return path
        for regex, template in self._patterned:
            if regex.match(path):
                return template
        for mount in self._mounts:
            if path == mount or path.startswith(mount + "/"):
                return mount
        return UNMATCHED


class MetricsMiddleware:
    """Count and time every HTTP request; lifespan and websocket scopes pass through."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics
        self._labels: HandlerLabels | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        handler = self._handler_labels(scope).label(route_path(scope))
        method = method_label(scope["method"])
        status = 500  # what the server answers if the app raises before responding

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        in_progress = self.metrics.in_progress_for(handler, method)
        in_progress.inc()
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_and_note)
        finally:
            in_progress.dec()
            self.metrics.observe_request(handler, method, status, time.perf_counter() - started)

    def _handler_labels(self, scope: Scope) -> HandlerLabels:
        # Built on the first request: by then every router has been included.
        if self._labels is None:
            app: Any = scope.get("app")
            self._labels = HandlerLabels.of_routes(getattr(app, "routes", []))
        return self._labels
