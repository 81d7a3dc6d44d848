"""Pure-ASGI response cache in front of the app.

A hit is answered here, without FastAPI routing, dependency resolution or
response validation. A miss renders the request once (single-flight) in a task
of its own, so a client that disconnects does not cancel it for the others.
"""

from __future__ import annotations

import json
import math
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.cache import CachedResponse, CacheKey, ResponseCache

CACHED_PREFIXES = ("/api/metrics/",)
UPSTREAM_FAILURES = frozenset({502, 503, 504})
_DROPPED_HEADERS = frozenset({b"cache-control", b"x-cache", b"age"})
MEMO_SIZE = 4096


def cache_key(scope: Scope) -> CacheKey:
    """Path plus sorted query pairs, so parameter order does not split the cache."""
    query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    return scope["path"], tuple(sorted(query))


def cache_headers(entry: CachedResponse, status: str, max_age: int) -> list[tuple[bytes, bytes]]:
    headers = [(k, v) for k, v in entry.headers if k.lower() not in _DROPPED_HEADERS]
    control = f"max-age={max_age}" if entry.status == 200 and max_age > 0 else "no-store"
    headers += [(b"x-cache", status.encode()), (b"cache-control", control.encode())]
    return headers


def hit_headers(entry: CachedResponse, max_age: int, age: int) -> list[tuple[bytes, bytes]]:
    """A hit's headers: the entry's own, then ``x-cache``, ``cache-control`` and ``age``."""
    headers = [(k, v) for k, v in entry.headers if k.lower() not in _DROPPED_HEADERS]
    headers += [
        (b"x-cache", b"HIT"),
        (b"cache-control", b"max-age=%d" % max_age),
        (b"age", b"%d" % age),
    ]
    return headers


async def send_entry(send: Send, entry: CachedResponse, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": entry.status, "headers": headers})
    await send({"type": "http.response.body", "body": entry.body})


async def send_stale(send: Send, entry: CachedResponse, age: int) -> None:
    """The last good answer, marked ``"stale": true``, when a fresh one cannot be had."""
    body = json.dumps({**json.loads(entry.body), "stale": True}, separators=(",", ":")).encode()
    marked = CachedResponse(entry.status, entry.headers, body, entry.stored_at)
    headers = [(k, v) for k, v in cache_headers(marked, "STALE", 0) if k != b"content-length"]
    headers += [(b"content-length", str(len(body)).encode()), (b"age", str(age).encode())]
    await send_entry(send, marked, headers)


class KeyMemo:
    """The cache key of a raw path and query string, remembered (emptied when full)."""

    def __init__(self, size: int = MEMO_SIZE) -> None:
        self.size = size
        self._keys: dict[tuple[str, bytes], CacheKey] = {}

    def key(self, scope: Scope) -> CacheKey:
        raw = (scope["path"], scope.get("query_string", b""))
        key = self._keys.get(raw)
        if key is None:
            if len(self._keys) >= self.size:
                self._keys.clear()
            key = self._keys[raw] = cache_key(scope)
        return key


class CacheMiddleware:
    def __init__(self, app: ASGIApp, prefixes: tuple[str, ...] = CACHED_PREFIXES) -> None:
        self.app = app
        self.prefixes = prefixes
        self.memo = KeyMemo()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._cacheable(scope):
            await self.app(scope, receive, send)
            return
        cache: ResponseCache = scope["state"]["app"].cache
        key = self.memo.key(scope)
        entry = cache.fresh(key)
        if entry is not None:
            now = cache.now()
            # Until the end of the entry's TTL slot; rounded up, as a hit is still fresh.
            remaining = math.ceil(cache.fresh_until(entry) - now)
            age = int(max(0.0, now - entry.stored_at))
            await send_entry(send, entry, hit_headers(entry, remaining, age))
            return
        entry, _ = await cache.load(key, lambda: self._render(dict(scope), cache))
        if entry.status in UPSTREAM_FAILURES:
            stale = cache.stale(key)
            if stale is not None:
                await send_stale(send, stale, int(cache.age(stale)))
                return
        await send_entry(send, entry, cache_headers(entry, "MISS", int(cache.ttl)))

    def _cacheable(self, scope: Scope) -> bool:
        return (
            scope["type"] == "http"
            and scope["method"] == "GET"
            and scope["path"].startswith(self.prefixes)
            and "app" in scope.get("state", {})
        )

    async def _render(self, scope: Scope, cache: ResponseCache) -> CachedResponse:
        """Run the app for ``scope`` with no client attached and keep what it sends."""
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        headers = tuple((bytes(k), bytes(v)) for k, v in start.get("headers", []))
        return CachedResponse(start.get("status", 500), headers, b"".join(chunks), cache.now())
