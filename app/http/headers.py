"""Small pure-ASGI layers for HTTP details every answer shares.

``HeadMiddleware`` answers ``HEAD`` wherever ``GET`` works (RFC 9110): the request
runs as a GET and the body is dropped, headers kept. ``DefaultHeadersMiddleware``,
outermost, adds ``X-Content-Type-Options: nosniff`` to every answer (cache hits, CORS
preflights and framework errors included), ``Cache-Control: no-store`` to answers that
do not say how long they may be kept (errors, health, preflights), and lists each
``Vary`` value once however many layers added it.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http.asgi import HEAD_SLOT, without_body

NOSNIFF = (b"x-content-type-options", b"nosniff")
NO_STORE = (b"cache-control", b"no-store")


class HeadMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        await self.app({**scope, "method": "GET", HEAD_SLOT: True}, receive, without_body(send))


class DefaultHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_defaults(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": with_security_headers(message.get("headers", []))}
            await send(message)

        await self.app(scope, receive, with_defaults)


def with_security_headers(raw: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``raw`` with nosniff, no-store unless it says how to cache, and one ``Vary``."""
    headers: list[tuple[bytes, bytes]] = []
    vary: list[bytes] = []
    for name, value in raw:
        lowered = bytes(name).lower()
        if lowered == b"vary":
            vary += [v.strip() for v in bytes(value).split(b",") if v.strip()]
        elif lowered != b"x-content-type-options":
            headers.append((name, value))
    names = {bytes(name).lower() for name, _ in headers}
    if vary:
        unique: dict[bytes, bytes] = {}
        for value in vary:
            unique.setdefault(value.lower(), value)  # in order, first spelling kept
        headers.append((b"vary", b", ".join(unique.values())))
    headers.append(NOSNIFF)
    if b"cache-control" not in names:
        headers.append(NO_STORE)
    return headers
