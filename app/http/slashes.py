"""Answer paths with or without the trailing slash, with no redirect.

The ``/api/...`` routes are declared with the slash (as the earlier API had them),
every other route without it; the other spelling is rewritten to the declared one.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


def canonical_path(path: str, prefix: str = "/api/") -> str:
    if path.startswith(prefix):
        return path if path.endswith("/") else path + "/"
    return path.rstrip("/") or "/"


class TrailingSlashMiddleware:
    def __init__(self, app: ASGIApp, prefix: str = "/api/") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = canonical_path(scope["path"], self.prefix)
            if path != scope["path"]:
                scope = {**scope, "path": path}
                scope.pop("raw_path", None)
        await self.app(scope, receive, send)
