"""Small pure-ASGI layers for HTTP details every answer shares.

``HeadMiddleware`` answers ``HEAD`` wherever ``GET`` works (RFC 9110): the request
runs as a GET and the body is dropped, headers kept. ``DefaultHeadersMiddleware``
adds ``X-Content-Type-Options: nosniff`` to every answer and ``Cache-Control:
no-store`` to answers that do not say how long they may be kept (errors, health).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.cache.layer import RENDER_SLOT

HEAD_SLOT = "mla.head"
"""Set in the scope of a HEAD run as a GET, for answers that never end (a live stream)."""
NOSNIFF = (b"x-content-type-options", b"nosniff")
NO_STORE = (b"cache-control", b"no-store")


class HeadMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET", HEAD_SLOT: True}, receive, without_body)


class DefaultHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # A render of the cache layer gets its Cache-Control there; the app's own stays.
        default_no_store = not scope.get(RENDER_SLOT)

        async def with_defaults(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {bytes(name).lower() for name, _ in headers}
                headers.append(NOSNIFF)
                if default_no_store and b"cache-control" not in names:
                    headers.append(NO_STORE)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_defaults)
