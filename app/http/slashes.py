"""Answer ``/api/...`` paths with or without the trailing slash, with no redirect."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class TrailingSlashMiddleware:
    def __init__(self, app: ASGIApp, prefix: str = "/api/") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path.startswith(self.prefix) and not path.endswith("/"):
            scope = {**scope, "path": path + "/"}
            scope.pop("raw_path", None)
        await self.app(scope, receive, send)
