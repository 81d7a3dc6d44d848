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
import math
import time
from array import array
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from app.breaker import CircuitBreaker
from app.offload import off_loop
from app.promql.durations import MAX_POINTS
from app.promql.upstream import (
    HistogramSeries,
    QueryResult,
    R,
    Reduced,
    Sample,
    Series,
    Upstream,
)

LabelKey = tuple[tuple[str, str], ...]
RangeKey = tuple[str, int, int]
"""PromQL, step and grid phase (both in milliseconds)."""

KEY_OVERHEAD_BYTES = 1024
SERIES_OVERHEAD_BYTES = 256


@dataclass(frozen=True, slots=True)
class Grid:
    """A range query's evaluation times as integer step indexes: exact, no float drift."""

    step_ms: int
    phase_ms: int
    first: int
    last: int

    @staticmethod
    def of(start: float, end: float, step: float) -> Grid:
        start_ms, end_ms, step_ms = round(start * 1000), round(end * 1000), round(step * 1000)
        phase = start_ms % step_ms
        return Grid(step_ms, phase, (start_ms - phase) // step_ms, (end_ms - phase) // step_ms)

    def seconds(self, index: int) -> float:
        return (index * self.step_ms + self.phase_ms) / 1000

    def index(self, seconds: float) -> int:
        return round((round(seconds * 1000) - self.phase_ms) / self.step_ms)

    def settled_until(self, now: float, unsettled_seconds: float) -> int:
        """The last index whose point can no longer change."""
        return math.floor((round((now - unsettled_seconds) * 1000) - self.phase_ms) / self.step_ms)


@dataclass(slots=True)
class Column:
    """One series' points from ``base`` on: value (NaN for null) and whether it exists."""

    values: array[float] = field(default_factory=lambda: array("d"))
    present: bytearray = field(default_factory=bytearray)


@dataclass(slots=True)
class Stored:
    """The settled points of one key, for indexes ``low..high`` (all known, some absent)."""

    low: int
    high: int
    columns: dict[LabelKey, Column]

    @property
    def size(self) -> int:
        width = self.high - self.low + 1
        return KEY_OVERHEAD_BYTES + len(self.columns) * (SERIES_OVERHEAD_BYTES + 9 * width)


def label_key(series: Series) -> LabelKey:
    return tuple(sorted(series.labels.items()))


def store(series_list: list[Series], grid: Grid, low: int, high: int) -> Stored:
    """Keep the points of ``series_list`` at indexes ``low..high``."""
    width = high - low + 1
    columns: dict[LabelKey, Column] = {}
    for series in series_list:
        column = Column(array("d", [math.nan]) * width, bytearray(width))
        for stamp, value in series.points:
            i = grid.index(stamp) - low
            if 0 <= i < width:
                column.values[i] = math.nan if value is None else value
                column.present[i] = 1
        if any(column.present):
            columns[label_key(series)] = column
    return Stored(low, high, columns)


def merge(old: Stored, new: Stored) -> Stored:
    """One contiguous block from two adjacent ones (plan() never fetches what is kept)."""
    low, high = min(old.low, new.low), max(old.high, new.high)
    width = high - low + 1
    columns: dict[LabelKey, Column] = {}
    for block in (old, new):
        for key, column in block.columns.items():
            target = columns.get(key)
            if target is None:
                target = columns[key] = Column(array("d", [math.nan]) * width, bytearray(width))
            offset = block.low - low
            end = offset + len(column.present)
            target.present[offset:end] = column.present
            target.values[offset:end] = column.values
    return Stored(low, high, columns)


def trim(stored: Stored, keep_from: int) -> Stored:
    """Drop indexes before ``keep_from`` (the oldest points of a sliding window)."""
    if keep_from <= stored.low:
        return stored
    cut = keep_from - stored.low
    columns = {}
    for key, column in stored.columns.items():
        kept = Column(column.values[cut:], column.present[cut:])
        if any(kept.present):
            columns[key] = kept
    return Stored(keep_from, stored.high, columns)


def points_between(stored: Stored, grid: Grid, low: int, high: int) -> dict[LabelKey, list[Point]]:
    out: dict[LabelKey, list[Point]] = {}
    first, last = max(low, stored.low), min(high, stored.high)
    for key, column in stored.columns.items():
        points = [
            (grid.seconds(i), _value(column.values[i - stored.low]))
            for i in range(first, last + 1)
            if column.present[i - stored.low]
        ]
        if points:
            out[key] = points
    return out


Point = tuple[float, float | None]


def _value(value: float) -> float | None:
    return None if math.isnan(value) else value


@dataclass(frozen=True, slots=True)
class Plan:
    """What to fetch: index spans, and what the cache can answer itself."""

    fetch: list[tuple[int, int]]
    cached: Stored | None


def plan(stored: Stored | None, grid: Grid) -> Plan:
    """Fetch the steps the cache lacks; everything after its newest settled step is refetched."""
    if stored is None or grid.first > stored.high + 1 or grid.last < stored.low - 1:
        return Plan([(grid.first, grid.last)], None)
    spans = []
    if grid.first < stored.low:
        spans.append((grid.first, stored.low - 1))
    if grid.last > stored.high:
        spans.append((max(grid.first, stored.high + 1), grid.last))
    return Plan(spans, stored)


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
        if any(isinstance(s, HistogramSeries) for r in results for s in r.items):
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


def assemble(
    todo: Plan, results: list[QueryResult[Series]], grid: Grid, settled: int
) -> tuple[list[Series], list[Stored]]:
    """The merged answer, and the settled blocks worth keeping (pure: may run in a thread)."""
    answer = todo.cached
    kept = []
    for (a, b), result in zip(todo.fetch, results, strict=True):
        fetched = store(result.items, grid, a, b)
        answer = fetched if answer is None else merge(answer, fetched)
        if a <= settled and not result.partial:  # part of the data may still change
            kept.append(clip(fetched, min(b, settled)))
    assert answer is not None  # plan() fetches whenever nothing is cached
    return _series(answer, grid), kept


def clip(stored: Stored, high: int) -> Stored:
    """Drop indexes after ``high`` (the steps that may still change)."""
    if high >= stored.high:
        return stored
    width = high - stored.low + 1
    columns = {}
    for key, column in stored.columns.items():
        kept = Column(column.values[:width], column.present[:width])
        if any(kept.present):
            columns[key] = kept
    return Stored(stored.low, high, columns)


def _series(answer: Stored, grid: Grid) -> list[Series]:
    """Series with a point in the asked range, ordered by labels as Prometheus orders them."""
    found = points_between(answer, grid, grid.first, grid.last)
    return [Series(dict(key), points) for key, points in sorted(found.items())]


class RangeCachedUpstream:
    """An ``Upstream`` whose range queries are answered from a ``RangeCache`` where they can.

    Instant queries and readiness go straight to ``inner``; one cache per upstream, so
    keys need not name the engine.
    """

    def __init__(self, inner: Upstream, cache: RangeCache) -> None:
        self.inner = inner
        self.cache = cache

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def breaker(self) -> CircuitBreaker | None:
        return self.inner.breaker

    async def query(self, promql: str, *, at: float) -> QueryResult[Sample]:
        return await self.inner.query(promql, at=at)

    async def query_reduced(
        self, promql: str, *, at: float, reduce: Callable[[list[Sample]], R]
    ) -> Reduced[R]:
        return await self.inner.query_reduced(promql, at=at, reduce=reduce)

    async def query_range(
        self, promql: str, *, start: float, end: float, step: float, lookback: float = 0.0
    ) -> QueryResult[Series]:
        return await self.cache.query_range(
            self.inner, promql, start=start, end=end, step=step, lookback=lookback
        )

    async def label_values(
        self, label: str, *, match: str, start: float, end: float
    ) -> QueryResult[str]:
        return await self.inner.label_values(label, match=match, start=start, end=end)

    async def ready(self) -> None:
        await self.inner.ready()
