"""ASGI helpers and the scope's side channel, shared by every layer that wraps an app.

The HEAD layer (``app/http/headers.py``), the cache (``app/cache/layer.py``) and the
live stream speak through these names and helpers, so none of them imports another
to learn them:

- ``HEAD_SLOT``: set in the scope of a HEAD run as a GET, for answers that never end
  (a live stream).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Scope, Send

HEAD_SLOT = "mla.head"

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
