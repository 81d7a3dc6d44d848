"""The arithmetic of the range cache (``app/promql/range_cache.py``), pure: a query's
steps as indexes on a grid, the points kept per series in columns, what to fetch
given what is kept, and the merged answer.

>>> grid = Grid.of(start=600.0, end=780.0, step=60.0)
>>> grid.first, grid.last
(10, 13)
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field

from app.promql.upstream import (
    Point,
    QueryResult,
    Series,
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

    def stamps(self, low: int, high: int) -> list[float]:
        """``seconds`` of every index from ``low`` to ``high``."""
        return [self.seconds(i) for i in range(low, high + 1)]

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

    @staticmethod
    def empty(width: int) -> Column:
        """``width`` steps, none present."""
        return Column(array("d", [math.nan]) * width, bytearray(width))


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
    stamps = grid.stamps(low, high)
    columns: dict[LabelKey, Column] = {}
    for series in series_list:
        column = _aligned(series.points, stamps, grid, low)
        if column is None:
            column = Column.empty(width)
            for stamp, value in series.points:
                i = grid.index(stamp) - low
                if 0 <= i < width:
                    column.values[i] = value
                    column.present[i] = 1
        if any(column.present):
            columns[label_key(series)] = column
    return Stored(low, high, columns)


def _aligned(points: list[Point], stamps: list[float], grid: Grid, low: int) -> Column | None:
    """The column of points that are exactly the grid's times from one index on, one per
    step (what an engine answers), made by slices; None for any other points."""
    if not points:
        return None
    i = grid.index(points[0][0]) - low
    end = i + len(points)
    if i < 0 or end > len(stamps) or [stamp for stamp, _ in points] != stamps[i:end]:
        return None
    column = Column.empty(len(stamps))
    column.values[i:end] = array("d", [value for _, value in points])
    column.present[i:end] = b"\x01" * len(points)
    return column


def merge(old: Stored, new: Stored) -> Stored:
    """One contiguous block from two adjacent ones (plan() never fetches what is kept)."""
    low, high = min(old.low, new.low), max(old.high, new.high)
    width = high - low + 1
    columns: dict[LabelKey, Column] = {}
    for block in (old, new):
        for key, column in block.columns.items():
            target = columns.get(key)
            if target is None:
                target = columns[key] = Column.empty(width)
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
    if first > last:
        return out
    stamps = grid.stamps(first, last)
    a, b = first - stored.low, last - stored.low + 1
    for key, column in stored.columns.items():
        values, present = column.values[a:b], column.present[a:b]
        if present.count(0) == 0:  # (every step: the usual case, made in C)
            points = list(zip(stamps, values, strict=True))
        else:
            points = [(t, v) for t, v, p in zip(stamps, values, present, strict=True) if p]
        if points:
            out[key] = points
    return out


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
