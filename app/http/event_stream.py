"""The response of a live stream: a slot held exactly as long as its connection.

The slot (``Ticket``) is given back in a ``finally`` around the whole response, so it is
released however the stream ends: the client closes (``http.disconnect``), a write
fails (the connection reset, or closed under a request pipelined behind the stream,
which some servers never report as a disconnect), the connection is found closed
(``connection_closed``), or the server stops. A HEAD gets the headers and ends.

    return EventStream(ticket, heartbeat=15, retry_ms=15000, headers={...})
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from app.http.asgi import HEAD_SLOT
from app.http.connection import connection_closed
from app.http.stream import Ticket

KEEP_ALIVE = b": keep-alive\n\n"


class EventStream(Response):
    """``text/event-stream``: ``retry:``, then every event of the ticket's channel, with
    ``: keep-alive`` comments when nothing happens for ``heartbeat`` seconds."""

    media_type = "text/event-stream"

    def __init__(
        self,
        ticket: Ticket,
        *,
        heartbeat: float,
        retry_ms: int,
        headers: Mapping[str, str],
        status_code: int = 200,  # (FastAPI's OpenAPI reads the default)
    ) -> None:
        # As StreamingResponse does: no body, so no Content-Length.
        self.status_code = status_code
        self.background = None
        self.init_headers(headers)
        self.ticket = ticket
        self.heartbeat = heartbeat
        self.retry_ms = retry_ms

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            if scope.get(HEAD_SLOT):  # the headers, and done: a HEAD must end
                await send(self._start())
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            self.ticket.channel.start()
            pump = asyncio.ensure_future(self._pump(scope, send))
            listen = asyncio.ensure_future(_disconnected(receive))
            try:
                await asyncio.wait({pump, listen}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (pump, listen):
                    task.cancel()
                pumped, _ = await asyncio.gather(pump, listen, return_exceptions=True)
            if isinstance(pumped, Exception):  # a fault of the service's own: not hidden
                raise pumped
        finally:
            self.ticket.close()

    async def _pump(self, scope: Scope, send: Send) -> None:
        """Send until the stream ends; a failed write means the client is gone."""
        hub, channel = self.ticket.hub, self.ticket.channel
        try:
            await send(self._start())
            await _chunk(send, f"retry: {self.retry_ms}\n\n".encode())
            seen = 0
            while not (hub.closing.is_set() or channel.ended or connection_closed(scope)):
                seen, update = await channel.next_event(seen, self.heartbeat)
                if not (hub.closing.is_set() or channel.ended):
                    await _chunk(send, KEEP_ALIVE if update is None else update)
        except (OSError, RuntimeError):  # the connection is gone (reset, or closed)
            return
        with contextlib.suppress(OSError, RuntimeError):
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    def _start(self) -> Message:
        headers = self.raw_headers
        return {"type": "http.response.start", "status": self.status_code, "headers": headers}


async def _chunk(send: Send, body: bytes) -> None:
    await send({"type": "http.response.body", "body": body, "more_body": True})


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
