"""A bounded TTL cache of whole responses, with single-flight loading.

An entry is fresh for ``ttl`` seconds; it is kept ``stale_seconds`` longer so
that it can stand in for an answer Prometheus cannot give (stale-if-error).

Entries are bounded by count and by bytes. Concurrent loads of one key share
one task: waiters ``await asyncio.shield(task)``, so a client that disconnects
cancels only its own wait, never the upstream query the others are waiting on.

    cache = ResponseCache(ttl=5, max_entries=10_000, max_bytes=64 << 20)
    entry, joined = await cache.load(key, render)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from cachetools import TTLCache

CacheKey = tuple[str, tuple[tuple[str, str], ...]]
Event = Callable[[str], None]
"""Told ``hit``, ``miss``, ``coalesced`` or ``stale`` as they happen (for the service's metrics)."""

ENTRY_OVERHEAD_BYTES = 512


@dataclass(frozen=True, slots=True)
class CachedResponse:
    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes
    stored_at: float

    @property
    def size(self) -> int:
        return len(self.body) + ENTRY_OVERHEAD_BYTES + sum(len(k) + len(v) for k, v in self.headers)


class ResponseCache:
    """Fresh-for-``ttl`` responses keyed on the normalised request."""

    def __init__(
        self,
        *,
        ttl: float,
        max_entries: int,
        stale_seconds: float = 0.0,
        max_bytes: int = 64 << 20,
        clock: Callable[[], float] = time.monotonic,
        on_event: Event | None = None,
    ) -> None:
        self.ttl = ttl
        self.stale_seconds = stale_seconds
        self.max_entries = max_entries
        self._clock = clock
        self._entries: TTLCache[CacheKey, CachedResponse] = TTLCache(
            maxsize=max_bytes,
            ttl=max(ttl + stale_seconds, 0.001),
            timer=clock,
            getsizeof=lambda e: e.size,
        )
        self._inflight: dict[CacheKey, asyncio.Future[CachedResponse]] = {}
        self._event = on_event or (lambda name: None)

    def __len__(self) -> int:
        return len(self._entries)

    def now(self) -> float:
        return self._clock()

    def age(self, entry: CachedResponse) -> float:
        return max(0.0, self._clock() - entry.stored_at)

    def fresh_until(self, entry: CachedResponse) -> float:
        """The end of the TTL slot (a multiple of ``ttl`` on the cache's clock) it was stored in.

        Slots, not a rolling TTL: a question is refreshed at most once per slot, and exactly
        once per slot in which anyone asks, so 100 polling clients cost Prometheus no more
        than 10 do (with a rolling TTL, more clients refresh sooner after each expiry).
        """
        return (entry.stored_at // self.ttl + 1) * self.ttl

    def fresh(self, key: CacheKey, *, count: bool = True) -> CachedResponse | None:
        """The entry for ``key`` if still fresh; ``count=False`` for a caller that counts hits."""
        entry = self._entries.get(key) if self.ttl > 0 else None
        if entry is None or self._clock() >= self.fresh_until(entry):
            return None
        if count:
            self._event("hit")
        return entry

    def stale(self, key: CacheKey) -> CachedResponse | None:
        """The last good answer for ``key`` if it is younger than ``ttl + stale_seconds``."""
        entry = self._entries.get(key)
        if entry is not None:
            self._event("stale")
        return entry

    def put(self, key: CacheKey, entry: CachedResponse) -> None:
        if self.ttl + self.stale_seconds <= 0 or entry.size > self._entries.maxsize:
            return
        self._entries[key] = entry
        while len(self._entries) > self.max_entries:
            self._entries.popitem()

    async def load(
        self, key: CacheKey, render: Callable[[], Awaitable[CachedResponse]]
    ) -> tuple[CachedResponse, bool]:
        """Render once per key however many callers ask at once; True if this one joined."""
        task = self._inflight.get(key)
        joined = task is not None
        if task is None:
            self._event("miss")
            task = asyncio.ensure_future(self._render_and_store(key, render))
            self._inflight[key] = task
            task.add_done_callback(lambda done: self._forget(key, done))
        else:
            self._event("coalesced")
        return await asyncio.shield(task), joined

    async def _render_and_store(
        self, key: CacheKey, render: Callable[[], Awaitable[CachedResponse]]
    ) -> CachedResponse:
        entry = await render()
        if entry.status == 200:
            self.put(key, entry)
        return entry

    def _forget(self, key: CacheKey, done: asyncio.Future[CachedResponse]) -> None:
        if self._inflight.get(key) is done:
            del self._inflight[key]
        if not done.cancelled():
            done.exception()  # retrieved, so an error nobody awaited is not logged as lost
