"""Where rendered responses are kept: the store interface and the in-process store.

An entry is fresh until the end of the TTL slot it was stored in (slots are multiples
of ``ttl`` on the wall clock, so every replica agrees on them) and is kept
``stale_seconds`` longer to stand in for an answer the upstream cannot give
(stale-if-error).

``LocalStore`` is the in-process near store every ``ResponseCache``
(``app/cache/core.py``) answers from first, without awaiting. ``ResponseStore`` is
the protocol of a shared store behind it (Redis, ``app/cache/shared.py``), with a
fleet-wide single-flight: ``claim`` a key before rendering it, ``wait`` for another
replica's answer when the claim is taken.

    store = LocalStore(ttl=5, stale_seconds=300, max_bytes=64 << 20)
    store.put("k", Entry(b"{}", (), stored_at=time.time()))
    entry = store.fresh("k")  # fresh, or None
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from cachetools import TTLCache

Header = tuple[bytes, bytes]
ENTRY_OVERHEAD_BYTES = 640  # the Kept record, and the hit headers the HTTP layer memoises


@dataclass(frozen=True, slots=True)
class Entry:
    """One rendered 200 answer: its body, its own headers, and when it was rendered.

    ``stored_at`` is wall-clock unix seconds, so replicas sharing a store agree on ages.
    """

    body: bytes
    headers: tuple[Header, ...]
    stored_at: float

    def size(self, key: str) -> int:
        """Bytes this entry holds in a store, its key included."""
        headers = sum(len(name) + len(value) for name, value in self.headers)
        return len(key) + len(self.body) + headers + ENTRY_OVERHEAD_BYTES


@dataclass(frozen=True, slots=True)
class Slots:
    """TTL-slot arithmetic shared by every store and the HTTP layer.

    Slots, not a rolling TTL: a question is refreshed at most once per slot, and exactly
    once per slot in which anyone asks, so 100 polling clients cost the upstream no more
    than 10 do (with a rolling TTL, more clients refresh sooner after each expiry).
    """

    ttl: float
    stale_seconds: float = 0.0

    def fresh_until(self, stored_at: float) -> float:
        """The end of the slot ``stored_at`` falls in."""
        if self.ttl <= 0:
            return stored_at
        return (stored_at // self.ttl + 1) * self.ttl

    def kept_until(self, stored_at: float) -> float:
        """When the entry is no longer good even as a stale stand-in."""
        return self.fresh_until(stored_at) + self.stale_seconds

    def is_fresh(self, entry: Entry, now: float) -> bool:
        return now < self.fresh_until(entry.stored_at)

    @property
    def enabled(self) -> bool:
        return self.ttl > 0 or self.stale_seconds > 0


@dataclass(frozen=True, slots=True)
class StoreHealth:
    """Whether a store answers, why not, and how long asking took."""

    ok: bool
    message: str
    latency_ms: float


class ResponseStore(Protocol):
    """Rendered responses by cache key, with TTL-slot semantics and a stale lookup.

    Implementations never raise for a failure of their own backend: they answer
    ``None`` (or ``True`` for ``claim``), so the cache is never why a request fails.
    """

    slots: Slots

    async def fresh(self, key: str) -> Entry | None:
        """The entry for ``key`` if it is in its TTL slot still."""

    async def stale(self, key: str) -> Entry | None:
        """The last good entry for ``key``, fresh or not, while it is kept."""

    async def put(self, key: str, entry: Entry) -> None:
        """Keep ``entry`` until the end of its slot plus the stale period; skip oversized."""

    async def claim(self, key: str, seconds: float) -> bool:
        """True if this caller should render ``key`` (no one else is, fleet-wide)."""

    async def wait(self, key: str, seconds: float) -> Entry | None:
        """A fresh entry another caller stores for ``key`` within ``seconds``, else None."""

    async def release(self, key: str) -> None:
        """Give up a claim (after rendering, or when rendering failed)."""

    async def health(self) -> StoreHealth:
        """Ask the backend if it answers; never raises."""


@dataclass(frozen=True, slots=True)
class Kept:
    """An entry as the local store keeps it: its size and the end of its slot."""

    entry: Entry
    size: int
    fresh_until: float


class LocalStore:
    """The in-process near store: a byte-bounded TTL map (bodies and keys counted),
    answered without awaiting. It is not a ``ResponseStore``: single-flight inside one
    process is ``ResponseCache``'s job, and there is nothing to claim or wait for.
    """

    def __init__(
        self,
        *,
        ttl: float,
        stale_seconds: float = 0.0,
        max_bytes: int = 64 << 20,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.slots = Slots(ttl, stale_seconds)
        self.max_entries = max_entries
        self.clock = clock
        self._entries: TTLCache[str, Kept] = TTLCache(
            maxsize=max_bytes,
            ttl=max(ttl + stale_seconds, 0.001),
            timer=clock,
            getsizeof=lambda kept: kept.size,
        )

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def max_bytes(self) -> int:
        return int(self._entries.maxsize)

    @property
    def size_bytes(self) -> int:
        return int(self._entries.currsize)

    def fresh(self, key: str, now: float | None = None) -> Entry | None:
        """The entry for ``key`` if it is in its TTL slot at ``now`` (default: the clock)."""
        kept = self._entries.get(key)
        if kept is None or (self.clock() if now is None else now) >= kept.fresh_until:
            return None
        return kept.entry

    def stale(self, key: str) -> Entry | None:
        """The last good entry for ``key``, fresh or not, while it is kept."""
        kept = self._entries.get(key)
        return None if kept is None else kept.entry

    def put(self, key: str, entry: Entry) -> bool:
        """Store ``entry``; False when it is larger than the whole store (served, not kept)."""
        size = entry.size(key)
        if not self.slots.enabled or size > self._entries.maxsize:
            return False
        self._entries[key] = Kept(entry, size, self.slots.fresh_until(entry.stored_at))
        while len(self._entries) > self.max_entries:
            self._entries.popitem()
        return True
