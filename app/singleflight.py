"""Single-flight: one call per key however many callers ask at once.

The first caller starts the call as a task; every caller, the first included,
``await asyncio.shield(task)``, so one that hangs up (a client that disconnects)
cancels only its own wait, never the call the others share. With ``ttl`` the
result is also remembered for ``ttl(result)`` seconds, so callers within that
time get it without a call; a call that raises is not remembered.

>>> import asyncio
>>> calls = []
>>> async def ask() -> int:
...     calls.append(1)
...     await asyncio.sleep(0)
...     return 42
>>> flight: SingleFlight[str, int] = SingleFlight(ttl=lambda value: 60.0)
>>> async def three() -> list[int]:
...     return list(await asyncio.gather(*(flight.run("k", ask) for _ in range(3))))
>>> asyncio.run(three()), len(calls)
([42, 42, 42], 1)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SingleFlight(Generic[K, V]):
    """Shared calls by key, and, with ``ttl``, their results for a while.

    ``max_keys`` bounds the remembered results (emptied when full, as a burst of new
    keys is rare and a forgotten one only costs one call).
    """

    def __init__(
        self,
        *,
        ttl: Callable[[V], float] | None = None,
        max_keys: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._max_keys = max_keys
        self._clock = clock
        self._tasks: dict[K, asyncio.Future[V]] = {}
        self._known: dict[K, tuple[V, float]] = {}

    def in_flight(self, key: K) -> bool:
        """Is a call for ``key`` running now (a caller would join it)?"""
        return key in self._tasks

    async def run(self, key: K, call: Callable[[], Awaitable[V]]) -> V:
        """The remembered result for ``key``, else the running call's, else ``call()``'s."""
        known = self._known.get(key)
        if known is not None and self._clock() < known[1]:
            return known[0]
        task = self._tasks.get(key)
        if task is None:
            task = asyncio.ensure_future(self._call(key, call))
            self._tasks[key] = task
            task.add_done_callback(lambda done: self._forget(key, done))
        return await asyncio.shield(task)

    async def _call(self, key: K, call: Callable[[], Awaitable[V]]) -> V:
        value = await call()
        if self._ttl is not None:
            if len(self._known) >= self._max_keys:
                self._known.clear()
            self._known[key] = (value, self._clock() + self._ttl(value))
        return value

    def _forget(self, key: K, done: asyncio.Future[V]) -> None:
        if self._tasks.get(key) is done:
            del self._tasks[key]
        if not done.cancelled():
            done.exception()  # retrieved, so an error nobody awaited is not logged as lost
