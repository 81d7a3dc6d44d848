"""Request ids and structured logs: ``LOG_FORMAT=json`` and ``X-Request-ID``.

Every HTTP request gets an id: the client's ``X-Request-ID`` when it is short and of a
safe alphabet, else a new one. ``RequestIdMiddleware`` keeps it in a context variable
for the whole request (so every log line of the request carries it, and the upstream
client sends it to the engine as ``X-Request-ID``), echoes it in the response and, when
the request is done, logs one line on ``app.requests`` with its route template, status,
duration, cache result and the time spent waiting for the engine.

With ``LOG_FORMAT=json`` (``configure_logging``), every line the process logs, uvicorn's
included, is one JSON object:

    {"timestamp": "2024-05-01T12:00:00.123Z", "level": "INFO", "logger": "app.requests",
     "message": "GET /api/metrics/p95/ 200", "request_id": "4bf92f35...", ...}
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http.asgi import Header
from app.http.paths import route_path
from app.observability.middleware import HandlerLabels

REQUEST_ID_HEADER = b"x-request-id"
_SAFE_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")


class Current:
    """The request being answered: its id, and the seconds its engine calls took."""

    __slots__ = ("id", "upstream_seconds")

    def __init__(self, request_id: str) -> None:
        self.id = request_id
        self.upstream_seconds = 0.0


# One context variable for both (one set and one reset per request, cache hits included).
CURRENT: ContextVar[Current | None] = ContextVar("request", default=None)
# Fields of ``app.requests`` lines, passed as ``extra``: they become JSON keys.
FIELDS = ("method", "route", "status", "duration_ms", "cache", "upstream_ms")
requests_log = logging.getLogger("app.requests")


def request_id_from(raw: bytes | None) -> str | None:
    """The client's id if it is 1 to 128 characters of letters, digits and ``._:-``."""
    return raw.decode() if raw is not None and _SAFE_ID.fullmatch(raw) else None


def new_request_id() -> str:
    """32 hex digits, unique across processes: a random prefix drawn once per process (a
    forked worker draws its own) and a counter. (``uuid4`` reads the system's randomness
    for every request, a system call on every cache hit: docs/performance.md.)"""
    return f"{_process[0]}{next(_process[1]):016x}"


def _draw_prefix() -> None:
    global _process
    _process = (os.urandom(8).hex(), itertools.count(1))


_process: tuple[str, itertools.count[int]]
_draw_prefix()
os.register_at_fork(after_in_child=_draw_prefix)


def timed_upstream(observe: Callable[[str, float], None]) -> Callable[[str, float], None]:
    """``PrometheusClient``'s observer, also adding each call's time to the request's."""

    def observer(outcome: str, seconds: float) -> None:
        observe(outcome, seconds)
        current = CURRENT.get()
        if current is not None:
            current.upstream_seconds += seconds

    return observer


async def send_request_id(request: httpx.Request) -> None:
    """An httpx request hook: the engine gets the request's id as ``X-Request-ID``."""
    current = CURRENT.get()
    if current is not None:
        request.headers["X-Request-ID"] = current.id


def _header(headers: Iterable[Header], name: bytes) -> bytes | None:
    """The first value of the header ``name`` (lower case), or None."""
    for key, value in headers:
        if key.lower() == name:
            return bytes(value)
    return None


class RequestIdMiddleware:
    """Outermost layer: the request id, its echo, and the request's summary line.

    ``finish`` makes the headers every answer carries (``with_security_headers``) from an
    answer's own: applied here, in the one layer every answer passes, rather than in a
    layer of its own (what a layer costs a cache hit: docs/performance.md). It returns a
    list this layer may add the echo to, without an ``X-Request-ID`` from inside.
    """

    def __init__(self, app: ASGIApp, finish: Callable[[Iterable[Header]], list[Header]]) -> None:
        self.app = app
        self.finish = finish
        self._labels: HandlerLabels | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = request_id_from(_header(scope["headers"], REQUEST_ID_HEADER))
        outer = CURRENT.get()
        # A call the service makes to itself (a stream's update) keeps its request's id.
        current = Current(given or (outer.id if outer is not None else new_request_id()))
        token = CURRENT.set(current)
        echoed = (REQUEST_ID_HEADER, current.id.encode())
        answered: list[Message] = []

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                # (``finish`` drops an id from inside and gives a list of this answer's own.)
                headers = self.finish(message.get("headers", ()))
                headers.append(echoed)
                message = {**message, "headers": headers}
                answered.append(message)
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if requests_log.isEnabledFor(logging.INFO):
                self._log(scope, answered, current, time.perf_counter() - started)
            CURRENT.reset(token)

    def _log(self, scope: Scope, answered: list[Message], current: Current, seconds: float) -> None:
        """The request's summary line: its status (500 if it sent none) and cache result."""
        start: Message = answered[0] if answered else {"status": 500, "headers": ()}
        cache = _header(start["headers"], b"x-cache")
        route = self._route(scope)
        fields = {
            "method": scope["method"],
            "route": route,
            "status": start["status"],
            "duration_ms": round(seconds * 1000, 3),
            "cache": cache.decode() if cache else None,
            "upstream_ms": round(current.upstream_seconds * 1000, 3),
        }
        requests_log.info("%s %s %s", scope["method"], route, start["status"], extra=fields)

    def _route(self, scope: Scope) -> str:
        # Built on the first request: by then every router has been included.
        if self._labels is None:
            self._labels = HandlerLabels.of_routes(getattr(scope.get("app"), "routes", []))
        return self._labels.label(route_path(scope))


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request id, fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "timestamp": _timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or _current_id(),
        }
        for name in FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def _current_id() -> str | None:
    current = CURRENT.get()
    return None if current is None else current.id


def _timestamp(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def configure_logging(log_format: str) -> None:
    """``json``: every logger of the process writes JSON lines to stderr, and the service's
    request lines replace uvicorn's access log. ``text``: logging is left as it is."""
    if log_format != "json":
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(min(root.level or logging.INFO, logging.INFO))
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # app.requests says more
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per upstream call: no
