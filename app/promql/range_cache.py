"""Range-query results cached by step, so a refreshed chart asks only for new points.

A dashboard that re-asks "the last 24 h at 1 m" every few seconds moves its
window by at most a step or two each time. Points older than the rate window
plus a settling margin can no longer change, so they are kept here per
``(Prometheus, query, step, grid phase)`` and only the missing steps and the
newest, still-settling steps are fetched again. The merged answer is exactly what
one full query would return: the same series, the same points, the same order.

    upstream = RangeCachedUpstream(client, RangeCache(max_bytes=32 << 20))
    result = await upstream.query_range(promql, start=s, end=e, step=60, lookback=300)

Answers holding native histograms (whole histograms, not float points) are passed on
and never kept.

Memory: each kept point costs 9 bytes (a float64 and a presence byte); keys are
evicted least recently used beyond ``max_keys`` or ``max_bytes``.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable

from app.offload import off_loop
from app.promql.durations import MAX_POINTS
from app.promql.range_grid import (
    Grid,
    Plan,
    RangeKey,
    Stored,
    assemble,
    merge,
    plan,
    trim,
)
from app.promql.upstream import (
    PassThrough,
    QueryResult,
    Series,
    Upstream,
)


class RangeCache:
    """Settled range-query points by ``(Prometheus, query, step, phase)``, LRU-bounded.

    ``unsettled_seconds(window)`` says how far back from now points may still change:
    the rate window plus ``settle_seconds`` for scrapes and ingestion in flight.
    """

    def __init__(
        self,
        *,
        max_bytes: int = 32 << 20,
        max_keys: int = 512,
        settle_seconds: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.max_bytes = max_bytes
        self.max_keys = max_keys
        self.settle_seconds = settle_seconds
        self._clock = clock
        self._entries: OrderedDict[RangeKey, Stored] = OrderedDict()
        self._bytes = 0

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    async def query_range(
        self,
        upstream: Upstream,
        promql: str,
        *,
        start: float,
        end: float,
        step: float,
        lookback: float,
    ) -> QueryResult[Series]:
        """What ``upstream.query_range(promql, ...)`` returns, mostly from here."""
        grid = Grid.of(start, end, step)
        key = (promql, grid.step_ms, grid.phase_ms)
        todo = plan(self._entries.get(key), grid)
        results = await asyncio.gather(
            *(
                upstream.query_range(promql, start=grid.seconds(a), end=grid.seconds(b), step=step)
                for a, b in todo.fetch
            )
        )
        if any(s.histograms for r in results for s in r.items):
            return await self._uncached(upstream, promql, key, todo, results, grid)
        settled = grid.settled_until(self._clock(), lookback + self.settle_seconds)
        points = sum(len(s.points) for r in results for s in r.items)
        series, kept = await off_loop(points, assemble, todo, results, grid, settled)
        for block in kept:
            self._keep(key, block)
        warnings = list(dict.fromkeys(w for r in results for w in r.warnings))
        return QueryResult(series, warnings)

    async def _uncached(
        self,
        upstream: Upstream,
        promql: str,
        key: RangeKey,
        todo: Plan,
        results: list[QueryResult[Series]],
        grid: Grid,
    ) -> QueryResult[Series]:
        """Native histograms are not float points: passed on whole, never kept."""
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= old.size
        if todo.cached is not None or len(results) != 1:
            start, end = grid.seconds(grid.first), grid.seconds(grid.last)
            step = grid.step_ms / 1000
            return await upstream.query_range(promql, start=start, end=end, step=step)
        return results[0]

    def _keep(self, key: RangeKey, fetched: Stored) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= old.size
        joined = old is not None and fetched.low <= old.high + 1 and fetched.high >= old.low - 1
        kept = merge(old, fetched) if joined and old is not None else fetched
        kept = trim(kept, kept.high - MAX_POINTS + 1)
        if kept.size > self.max_bytes:
            return
        self._entries[key] = kept
        self._bytes += kept.size
        while len(self._entries) > self.max_keys or self._bytes > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= evicted.size


class RangeCachedUpstream(PassThrough):
    """An ``Upstream`` whose range queries are answered from a ``RangeCache`` where they can.

    Instant queries and readiness go straight to ``inner``; one cache per upstream, so
    keys need not name the engine.
    """

    def __init__(self, inner: Upstream, cache: RangeCache) -> None:
        super().__init__(inner)
        self.cache = cache

    async def query_range(
        self, promql: str, *, start: float, end: float, step: float, lookback: float = 0.0
    ) -> QueryResult[Series]:
        return await self.cache.query_range(
            self.inner, promql, start=start, end=end, step=step, lookback=lookback
        )
