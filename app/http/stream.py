"""Server-Sent Events: one shared evaluation per interval, however many browsers listen.

Each update of a stream is the ``/api/metrics/percentiles/`` answer for the stream's
parameters, fetched through the service's own front stack, so it comes from the
response cache: every subscriber with the same parameters (on every replica, with a
shared cache) shares one upstream evaluation per TTL slot.

``StreamHub`` counts open streams (at most ``STREAM_MAX_CLIENTS``, and
``STREAM_MAX_PER_CLIENT`` from one client address), runs one polling loop per distinct
question (``app/http/channels.py``, at most ``STREAM_MAX_KEYS`` of them) and ends them
all when the server is asked to stop: uvicorn waits for open responses before it shuts
down, so the hub chains onto its SIGTERM/SIGINT handlers. ``EventStream``
(``app/http/event_stream.py``) holds a stream's slot exactly as long as its connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections import Counter
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from types import FrameType
from typing import Any

from starlette.types import ASGIApp, Scope

from app.errors import TooManyStreams
from app.http.asgi import capture
from app.http.channels import Channel, Poll
from app.http.paths import own_path

PERCENTILES_PATH = "/api/metrics/percentiles/"
Handler = Callable[[int, FrameType | None], Any] | int | None
PER_CLIENT = "STREAM_MAX_PER_CLIENT"
KEYS = "STREAM_MAX_KEYS"


class StreamHub:
    """Open streams and their channels, bounded, and one event that ends them all.

    Limits, each a 503 ``TooManyStreams`` naming its setting: ``limit`` streams in all
    (``STREAM_MAX_CLIENTS``), ``max_per_client`` from one client address
    (``STREAM_MAX_PER_CLIENT``), ``max_keys`` distinct questions, each followed by one
    polling loop (``STREAM_MAX_KEYS``).
    """

    def __init__(
        self,
        *,
        limit: int,
        max_keys: int = 100,
        max_per_client: int = 100,
        on_change: Callable[[int], None] | None = None,
    ) -> None:
        self.limit = limit
        self.max_keys = max_keys
        self.max_per_client = max_per_client
        self.open = 0
        self.closing = asyncio.Event()
        self._changed = on_change or (lambda count: None)
        self._per_client: Counter[str] = Counter()
        self._channels: dict[Hashable, Channel] = {}

    def check(self, retry_after: int, *, question: Hashable = None, client: str = "") -> None:
        """``TooManyStreams`` when a stream for ``question`` from ``client`` would pass a
        limit (or the server is stopping)."""
        if self.open >= self.limit or self.closing.is_set():
            raise TooManyStreams(self.limit, retry_after=retry_after)
        if self._per_client[client] >= self.max_per_client:
            raise TooManyStreams(self.max_per_client, retry_after=retry_after, setting=PER_CLIENT)
        if question not in self._channels and len(self._channels) >= self.max_keys:
            raise TooManyStreams(self.max_keys, retry_after=retry_after, setting=KEYS)

    def reserve(
        self,
        question: Hashable,
        client: str,
        poll: Poll,
        *,
        interval: float,
        retry_after: int,
        name: str,
    ) -> Ticket:
        """Check the limits and take a slot now (no await in between, so a burst cannot
        pass them); the slot is held until the ticket is closed."""
        self.check(retry_after, question=question, client=client)
        channel = self._channels.get(question)
        if channel is None:
            channel = self._channels[question] = Channel(poll, interval=interval, name=name)
        channel.subscribers += 1
        self._per_client[client] += 1
        self.open += 1
        self._changed(self.open)
        return Ticket(self, question, client, channel)

    def release(self, ticket: Ticket) -> None:
        self.open -= 1
        self._changed(self.open)
        self._per_client[ticket.client] -= 1
        if self._per_client[ticket.client] <= 0:
            del self._per_client[ticket.client]
        ticket.channel.subscribers -= 1
        if ticket.channel.subscribers <= 0:
            ticket.channel.stop()
            if self._channels.get(ticket.question) is ticket.channel:
                del self._channels[ticket.question]

    @property
    def questions(self) -> int:
        """Distinct questions followed now (one polling loop each)."""
        return len(self._channels)

    def close(self) -> None:
        """End every stream (the server is stopping)."""
        self.closing.set()
        for channel in list(self._channels.values()):
            channel.stop()

    @contextlib.contextmanager
    def closing_on_signals(self) -> Iterator[None]:
        """While open, SIGTERM and SIGINT also end every stream, then reach the server."""
        previous: dict[signal.Signals, Handler] = {}

        def close(signum: int, frame: FrameType | None) -> None:
            self.close()
            handler = previous.get(signal.Signals(signum))
            if callable(handler):
                handler(signum, frame)

        with contextlib.suppress(ValueError):  # not the main thread: nothing to chain onto
            for sig in (signal.SIGTERM, signal.SIGINT):
                previous[sig] = signal.signal(sig, close)
        try:
            yield
        finally:
            self.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler if handler is not None else signal.SIG_DFL)


@dataclass(eq=False)
class Ticket:
    """One stream's slot; ``close()`` gives it back, once, however the stream ended."""

    hub: StreamHub
    question: Hashable
    client: str
    channel: Channel
    closed: bool = False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.hub.release(self)


async def fetch(
    front: ASGIApp, scope: Scope, query: bytes, path: str = PERCENTILES_PATH
) -> tuple[int, bytes]:
    """The service's own answer to ``GET <path>?<query>`` (``/api/metrics/percentiles/``)."""
    full = own_path(scope, path)
    inner: dict[str, Any] = {
        "type": "http",
        "asgi": scope.get("asgi", {"version": "3.0"}),
        "http_version": "1.1",
        "method": "GET",
        "scheme": scope.get("scheme", "http"),
        "server": scope.get("server"),
        "client": scope.get("client"),
        "root_path": scope.get("root_path", ""),
        "path": full,
        "raw_path": full.encode(),
        "query_string": query,
        "headers": [(b"host", b"stream"), (b"accept", b"application/json")],
        "state": scope.get("state", {}),
        "app": scope.get("app"),
    }
    answer = await capture(front, inner)
    return answer.status, answer.body
