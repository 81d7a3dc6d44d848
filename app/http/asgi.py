"""ASGI helpers and the scope's side channels, shared by every layer that wraps an app.

The cache (``app/cache/layer.py``), request metrics (``app/observability/``), the error
handlers and the live stream all speak through these names and helpers, so none of
them imports another to learn a slot's name:

- ``ERRORS_SLOT``: a list in the scope of a render; the error handler appends the
  ``ServiceError`` it saw (so the cache can answer stale instead);
- ``RENDER_SLOT``: set in the scope of a render, so the request-metrics layer leaves
  it to the cache layer, which counts what the client got;
- ``HEAD_SLOT``: set in the scope of a HEAD run as a GET, for answers that never end
  (a live stream);
- ``PARTIAL_SLOT``: a list in the scope of a render; an endpoint whose answer holds only
  part of the engine's data appends ``True``, so the cache does not keep it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Scope, Send

ERRORS_SLOT = "mla.errors"
RENDER_SLOT = "mla.render"
HEAD_SLOT = "mla.head"
PARTIAL_SLOT = "mla.partial"

Header = tuple[bytes, bytes]


def without_body(send: Send) -> Send:
    """``send``, with every body emptied: a HEAD answered from its GET (RFC 9110)."""

    async def head(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return head


async def no_body() -> Message:
    """The ``receive`` of a request that has no body and never disconnects."""
    return {"type": "http.request", "body": b"", "more_body": False}


@dataclass(frozen=True, slots=True)
class Captured:
    """What an app sent for one request: its status, headers and whole body."""

    status: int
    headers: tuple[Header, ...]
    body: bytes


async def capture(app: ASGIApp, scope: Scope) -> Captured:
    """Run ``app`` for ``scope`` with no client attached, and keep what it sends."""
    start: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def keep(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, no_body, keep)
    headers = tuple((bytes(k), bytes(v)) for k, v in start.get("headers", []))
    return Captured(int(start.get("status", 500)), headers, b"".join(chunks))
