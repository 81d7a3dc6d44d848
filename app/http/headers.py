"""HTTP details every answer shares.

``HeadMiddleware`` answers ``HEAD`` wherever ``GET`` works (RFC 9110): the request
runs as a GET and the body is dropped, headers kept. ``with_security_headers`` adds
``X-Content-Type-Options: nosniff``, ``Cache-Control: no-store`` to answers that do not
say how long they may be kept (errors, health, preflights), and lists each ``Vary``
value once however many layers added it. The outermost layer applies it to every
answer (cache hits, CORS preflights and framework errors included); the cache layer
applies it to its hit headers when it makes them, so hits are not looked at again.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

from app.http.asgi import HEAD_SLOT, without_body

NOSNIFF = (b"x-content-type-options", b"nosniff")
NO_STORE = (b"cache-control", b"no-store")
# Set only by the outermost layer: one from inside is dropped (X-Request-ID is its echo).
OUTERMOST = frozenset({b"x-content-type-options", b"x-request-id"})


class HeadMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        await self.app({**scope, "method": "GET", HEAD_SLOT: True}, receive, without_body(send))


class Finished(list[tuple[bytes, bytes]]):
    """Headers ``with_security_headers`` made: given to it again, they are kept as they are
    (a cache hit's headers are finished once a second, not once per hit; each hit is sent
    a copy of its own)."""


def with_security_headers(raw: Iterable[tuple[bytes, bytes]]) -> Finished:
    """``raw`` with nosniff, no-store unless it says how to cache, and one ``Vary``; without
    the headers only the outermost layer sets. A list the caller may add to: a new one,
    or ``raw`` itself when it is ``Finished`` already."""
    if isinstance(raw, Finished):
        return raw
    headers = Finished()
    vary: list[bytes] = []
    cached = False
    for name, value in raw:
        lowered = name.lower()
        if lowered == b"vary":
            vary += [v.strip() for v in bytes(value).split(b",") if v.strip()]
        elif lowered not in OUTERMOST:
            cached = cached or lowered == b"cache-control"
            headers.append((name, value))
    if vary:
        unique: dict[bytes, bytes] = {}
        for value in vary:
            unique.setdefault(value.lower(), value)  # in order, first spelling kept
        headers.append((b"vary", b", ".join(unique.values())))
    headers.append(NOSNIFF)
    if not cached:
        headers.append(NO_STORE)
    return headers
