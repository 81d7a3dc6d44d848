"""The cache-hit fast path: the outermost layer of the service.

A dashboard on fifty screens asks the same few questions every few seconds, so
most requests are hits. A fresh hit is answered here, before error handling,
the slash fix, the request-metrics layer, CORS and FastAPI run: one memo lookup
for the normalised key, one cache lookup, two ``send`` calls, one metrics call.
Everything else (misses, stale answers, requests that a CORS layer must answer,
paths the cache does not hold) goes on to ``app``, the full stack, whose
``CacheMiddleware`` does the rest with the same keys and headers.

    front = CacheFront(full_stack, on_hit=lambda path, seconds: ...)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from app.cache import CachedResponse, CacheKey, ResponseCache
from app.http.cache_middleware import CACHED_PREFIXES, cache_key, hit_headers

HitCounter = Callable[[str, float], None]
"""Told the normalised path and the seconds of every hit answered here."""

SLASHED_PREFIX = "/api/"  # TrailingSlashMiddleware's: /api/x and /api/x/ are one resource
MEMO_SIZE = 256


@dataclass(slots=True)
class Prepared:
    """A fresh entry as this layer answers it; the headers change with its age."""

    cache: ResponseCache
    entry: CachedResponse
    fresh_until: float
    age: int
    max_age: int
    headers: list[tuple[bytes, bytes]]


class CacheFront:
    """Answer fresh hits of ``ResponseCache`` first; pass everything else to ``app``.

    A hot key's entry is remembered here until the end of its TTL slot (when the cache
    would stop serving it too), so most hits skip even the cache's own bookkeeping;
    ``on_hit`` counts each one, in the request metrics and as a cache hit.
    ``bypass_header``: requests carrying it go to ``app`` (the CORS layer must see
    requests with an ``Origin`` header, so the factory names it when CORS is on).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        on_hit: HitCounter,
        prefixes: tuple[str, ...] = CACHED_PREFIXES,
        bypass_header: bytes | None = None,
        memo_size: int = MEMO_SIZE,
    ) -> None:
        self.app = app
        self.on_hit = on_hit
        self.prefixes = prefixes
        self.bypass_header = bypass_header
        self.memo_size = memo_size
        self._keys: dict[tuple[str, bytes], tuple[CacheKey, str] | None] = {}
        self._prepared: dict[CacheKey, Prepared] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        if scope["type"] == "http" and scope["method"] == "GET":
            found = self._key(scope)
            state = scope.get("state")
            if found is not None and state and "app" in state and not self._bypassed(scope):
                headers = self._fresh(found[0], state["app"].cache)
                if headers is not None:
                    entry = self._prepared[found[0]].entry
                    await send({"type": "http.response.start", "status": 200, "headers": headers})
                    await send({"type": "http.response.body", "body": entry.body})
                    self.on_hit(found[1], time.perf_counter() - started)
                    return
        await self.app(scope, receive, send)

    def _key(self, scope: Scope) -> tuple[CacheKey, str] | None:
        """The cache key and normalised path, memoised on the raw path and query."""
        raw = (scope["path"], scope.get("query_string", b""))
        if raw in self._keys:
            return self._keys[raw]
        if len(self._keys) >= self.memo_size:
            self._keys.clear()
        path = normalised_path(raw[0])
        found = None
        if path.startswith(self.prefixes):
            found = cache_key({"path": path, "query_string": raw[1]}), path
        self._keys[raw] = found
        return found

    def _bypassed(self, scope: Scope) -> bool:
        wanted = self.bypass_header
        return wanted is not None and any(name == wanted for name, _ in scope["headers"])

    def _fresh(self, key: CacheKey, cache: ResponseCache) -> list[tuple[bytes, bytes]] | None:
        """A fresh hit's headers, or None to let the full stack answer."""
        now = cache.now()
        prepared = self._prepared.get(key)
        if prepared is None or prepared.cache is not cache or now >= prepared.fresh_until:
            entry = cache.fresh(key, count=False)  # on_hit counts the hit
            if entry is None:
                return None
            if len(self._prepared) >= self.memo_size:
                self._prepared.clear()
            prepared = Prepared(cache, entry, cache.fresh_until(entry), -1, -1, [])
            self._prepared[key] = prepared
        age = int(max(0.0, now - prepared.entry.stored_at))
        # Until the end of the entry's TTL slot; rounded up, as a hit is still fresh.
        max_age = math.ceil(prepared.fresh_until - now)
        if age != prepared.age or max_age != prepared.max_age:
            prepared.age, prepared.max_age = age, max_age
            prepared.headers = hit_headers(prepared.entry, max_age, age)
        return prepared.headers


def normalised_path(path: str) -> str:
    """The path as TrailingSlashMiddleware hands it on."""
    if path.startswith(SLASHED_PREFIX) and not path.endswith("/"):
        return path + "/"
    return path
