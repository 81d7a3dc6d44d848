"""The response cache: a near in-process store, an optional shared store, single-flight.

``ResponseCache`` is what the lifespan builds and the HTTP layer
(``app/cache/layer.py``) uses. It answers fresh entries from the near store
(``LocalStore``, no await on the hit path), then from the shared store if there is
one; a miss is rendered once per key in this process (``app/singleflight.py``: a
client that disconnects cancels only its own wait) and, with a shared store, once per
key across the fleet (``claim``/``wait``).

    cache = ResponseCache(LocalStore(ttl=5, stale_seconds=300), shared=None)
    rendered, joined = await cache.load(key, render)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import orjson

from app.cache.entries import entry_of
from app.cache.store import Entry, LocalStore, ResponseStore
from app.singleflight import SingleFlight

Header = tuple[bytes, bytes]
Event = Callable[[str], None]
"""Told ``hit``, ``miss``, ``coalesced`` or ``stale`` as they happen (for the metrics)."""


@dataclass(frozen=True, slots=True)
class Rendered:
    """What rendering a request gave: its status, headers, body and error, if any."""

    status: int
    headers: tuple[Header, ...]
    body: bytes
    error: Exception | None = None
    stored_at: float | None = None  # set when it comes from a store, not this render
    partial: bool = False  # part of the engine's data only: served, never kept
    stale: bool = False  # the last good answer, served because rendering failed

    def entry(self, stored_at: float) -> Entry | None:
        """What the cache keeps of this answer; None when it must not be kept
        (partial, or see ``app/cache/entries.py``)."""
        if self.partial:
            return None
        return entry_of(self.status, self.headers, self.body, stored_at=stored_at)

    @staticmethod
    def of(entry: Entry) -> Rendered:
        return Rendered(200, entry.headers, entry.body, stored_at=entry.stored_at)

    @staticmethod
    def stale_of(entry: Entry) -> Rendered:
        """The kept answer, its body marked ``"stale": true``."""
        return Rendered(
            200, entry.headers, mark_stale(entry.body), stored_at=entry.stored_at, stale=True
        )


Render = Callable[[], Awaitable[Rendered]]


class ResponseCache:
    """Fresh answers by key from ``near`` (and ``shared``), rendered once when missing.

    ``claim_seconds``: how long a fleet-wide claim on a key lasts (the upstream timeout);
    ``wait_seconds``: how long to wait for another replica's answer before rendering.
    """

    def __init__(
        self,
        near: LocalStore,
        shared: ResponseStore | None = None,
        *,
        claim_seconds: float = 10.0,
        wait_seconds: float = 10.0,
        on_event: Event | None = None,
        on_size: Callable[[int], None] | None = None,
    ) -> None:
        self._near = near
        self.shared = shared
        self.claim_seconds = claim_seconds
        self.wait_seconds = wait_seconds
        self._event = on_event or (lambda name: None)
        self._size = on_size or (lambda entries: None)
        self._flights: SingleFlight[str, Rendered] = SingleFlight()

    def __len__(self) -> int:
        return len(self._near)

    def now(self) -> float:
        return self._near.clock()

    def hit(self, key: str, now: float) -> Entry | None:
        """The fresh entry for ``key`` in the near store at ``now``, without awaiting:
        the HTTP layer's fast path (which counts it with ``count_hit`` once served)."""
        return self._near.fresh(key, now)

    def fresh_until(self, stored_at: float) -> float:
        """The end of the TTL slot an answer stored at ``stored_at`` is fresh in."""
        return self._near.slots.fresh_until(stored_at)

    def count_hit(self) -> None:
        self._event("hit")

    async def stale(self, key: str) -> Rendered | None:
        """The last good answer for ``key`` while it is kept, from either store."""
        entry = self._near.stale(key)
        if entry is None and self.shared is not None:
            entry = await self.shared.stale(key)
        if entry is None:
            return None
        self._event("stale")
        return Rendered.stale_of(entry)

    async def fresh_or_load(self, key: str, render: Render) -> Rendered:
        """A fresh answer for ``key`` from the near store, else ``load``'s: for callers
        other than the HTTP layer (which has its own hit path, ``hit``)."""
        entry = self._near.fresh(key)
        if entry is not None:
            self._event("hit")
            return Rendered.of(entry)
        rendered, _ = await self.load(key, render)
        return rendered

    async def load(self, key: str, render: Render) -> tuple[Rendered, bool]:
        """Render once per key however many callers ask at once; True if this one joined."""
        joined = self._flights.in_flight(key)
        if joined:
            self._event("coalesced")
        return await self._flights.run(key, lambda: self._fill(key, render)), joined

    async def _fill(self, key: str, render: Render) -> Rendered:
        if self.shared is None:
            return await self._render_and_keep(key, render)
        entry = await self.shared.fresh(key)
        if entry is None:
            if await self.shared.claim(key, self.claim_seconds):
                # Another replica may have stored its answer and released its claim
                # between the lookup above and this claim: look once more.
                entry = await self.shared.fresh(key)
                if entry is not None:
                    await self.shared.release(key)
            else:
                entry = await self.shared.wait(key, self.wait_seconds)
        if entry is not None:
            self._near.put(key, entry)
            return Rendered.of(entry)
        try:
            return await self._render_and_keep(key, render)
        finally:
            await self.shared.release(key)

    async def _render_and_keep(self, key: str, render: Render) -> Rendered:
        self._event("miss")
        rendered = await render()
        entry = rendered.entry(self.now())
        if entry is not None:
            self._near.put(key, entry)
            self._size(len(self._near))
            if self.shared is not None:
                await self.shared.put(key, entry)
        return rendered


def mark_stale(body: bytes) -> bytes:
    document = orjson.loads(body)
    document["stale"] = True
    return orjson.dumps(document)
