"""Server-Sent Events: one shared evaluation per interval, however many browsers listen.

Each update of a stream is the ``/api/metrics/percentiles/`` answer for the stream's
parameters, fetched through the service's own front stack, so it comes from the
response cache: every subscriber with the same parameters (on every replica, with a
shared cache) shares one upstream evaluation per TTL slot.

``StreamHub`` counts open streams (at most ``STREAM_MAX_CLIENTS``) and ends them all
when the server is asked to stop: uvicorn waits for open responses before it shuts
down, so the hub chains onto its SIGTERM/SIGINT handlers.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from types import FrameType
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Scope

from app.errors import TooManyStreams

PERCENTILES_PATH = "/api/metrics/percentiles/"
Handler = Callable[[int, FrameType | None], Any] | int | None


class StreamHub:
    """Open streams, bounded, and one event that ends them all at shutdown."""

    def __init__(self, *, limit: int, on_change: Callable[[int], None] | None = None) -> None:
        self.limit = limit
        self.open = 0
        self.closing = asyncio.Event()
        self._changed = on_change or (lambda count: None)

    def check(self, retry_after: int) -> None:
        """``TooManyStreams`` when no slot is free (or the server is stopping)."""
        if self.open >= self.limit or self.closing.is_set():
            raise TooManyStreams(self.limit, retry_after=retry_after)

    @contextlib.contextmanager
    def slot(self, retry_after: int) -> Iterator[None]:
        """Hold one stream slot; ``TooManyStreams`` when none is free."""
        self.check(retry_after)
        self.open += 1
        self._changed(self.open)
        try:
            yield
        finally:
            self.open -= 1
            self._changed(self.open)

    @contextlib.contextmanager
    def closing_on_signals(self) -> Iterator[None]:
        """While open, SIGTERM and SIGINT also end every stream, then reach the server."""
        previous: dict[signal.Signals, Handler] = {}

        def close(signum: int, frame: FrameType | None) -> None:
            self.closing.set()
            handler = previous.get(signal.Signals(signum))
            if callable(handler):
                handler(signum, frame)

        with contextlib.suppress(ValueError):  # not the main thread: nothing to chain onto
            for sig in (signal.SIGTERM, signal.SIGINT):
                previous[sig] = signal.signal(sig, close)
        try:
            yield
        finally:
            self.closing.set()
            for sig, handler in previous.items():
                signal.signal(sig, handler if handler is not None else signal.SIG_DFL)


async def fetch(
    front: ASGIApp, scope: Scope, query: bytes, path: str = PERCENTILES_PATH
) -> tuple[int, bytes]:
    """The service's own answer to ``GET <path>?<query>`` (``/api/metrics/percentiles/``)."""
    root = scope.get("root_path", "")
    inner: dict[str, Any] = {
        "type": "http",
        "asgi": scope.get("asgi", {"version": "3.0"}),
        "http_version": "1.1",
        "method": "GET",
        "scheme": scope.get("scheme", "http"),
        "server": scope.get("server"),
        "client": scope.get("client"),
        "root_path": root,
        "path": root + path,
        "raw_path": (root + path).encode(),
        "query_string": query,
        "headers": [(b"host", b"stream"), (b"accept", b"application/json")],
        "state": scope.get("state", {}),
        "app": scope.get("app"),
    }
    status = 500
    chunks: list[bytes] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await front(inner, receive, send)
    return status, b"".join(chunks)


def event(name: str, data: bytes, ident: str | None = None) -> bytes:
    """One SSE event; ``data`` is one line of JSON."""
    head = f"event: {name}\n" + (f"id: {ident}\n" if ident else "")
    return head.encode() + b"data: " + data + b"\n\n"


def evaluation_id(body: bytes) -> str:
    """The evaluation time of an answer (its items' ``timestamp``, else its
    ``last_updated``), as the event id."""
    document = orjson.loads(body)
    data = document.get("data") or []
    stamp = data[0].get("timestamp") if data else None
    if not isinstance(stamp, int | float) and isinstance(document.get("last_updated"), str):
        with contextlib.suppress(ValueError):
            stamp = datetime.fromisoformat(document["last_updated"]).timestamp()
    return f"{stamp if isinstance(stamp, int | float) else time.time():.3f}"


async def events(
    hub: StreamHub,
    update: Callable[[], Any],
    *,
    interval: float,
    heartbeat: float,
    name: str = "percentiles",
) -> AsyncIterator[bytes]:
    """``retry:``, then an update every ``interval`` seconds, comments in between."""
    yield f"retry: {int(interval * 1000)}\n\n".encode()
    while not hub.closing.is_set():
        status, body = await update()
        if status == 200:
            yield event(name, body, evaluation_id(body))
        else:
            yield event("error", body)
        deadline = time.monotonic() + interval
        while (left := deadline - time.monotonic()) > 0 and not hub.closing.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(hub.closing.wait(), min(left, heartbeat))
            if left > heartbeat and not hub.closing.is_set():
                yield b": keep-alive\n\n"
