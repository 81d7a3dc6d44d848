"""Many histograms of one bucket layout as one table (numpy).

The models of one answer usually share a bucket layout. Their counts, as one array,
go through the same IEEE operations in the same order as one histogram at a time in
``app.promql.quantile``, so every row gives the same float64 numbers that
``merged_quantiles`` gives for that histogram. Layouts shared by fewer than
``TABLE_MIN`` models, layouts that spell a bound twice, and rows with a NaN or
infinite count stay on the one-at-a-time path.

An answer that came as blocks (``Block``: every model once under each ``le``, in one
order, as Prometheus orders an aggregation by model and ``le``) is one layout already:
its values become the table by a reshape, with no group made per model.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from app.promql.quantile import cumulative, layout, merged_quantiles

TABLE_MIN = 32
"""Histograms of one layout computed as a table from this many on; for fewer, numpy's
fixed cost per call is more than the per-histogram path's."""


def grouped_quantiles(
    qs: Sequence[float], groups: Mapping[str, dict[str, float]]
) -> dict[str, list[float]]:
    """``merged_quantiles(qs, *cumulative(group))`` of every group, by name: the groups
    ``tables`` takes computed as tables (``table_quantiles``), the rest one at a time."""
    found, rest = tables(groups)
    out: dict[str, list[float]] = {}
    for table in found:
        if _interpolated(table.bounds):
            values = table_quantiles(qs, table.bounds, table.counts).tolist()
            out.update(zip(table.names, values, strict=True))
        else:  # (NaN: no +Inf bucket)
            rest += table.names
    for name in rest:
        out[name] = merged_quantiles(qs, *cumulative(groups[name]))
    return out


Array = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Table:
    """Histograms of one layout as one array: a row of counts per name, in the order of
    ``bounds`` (sorted, each spelled once), every count finite."""

    bounds: list[float]
    names: list[str]
    counts: Array


class Block(Mapping[str, dict[str, float]]):
    """Groups that came as blocks: under each of ``texts`` (in the order they came) the
    same ``names`` in the same order, each once; ``flat``: their values, block after
    block. Read as the mapping ``{name: {text: value}}`` (texts in block order), each
    group made only when asked for; ``tables`` reads the values as they are."""

    __slots__ = ("_array", "_where", "flat", "names", "texts")

    def __init__(self, names: list[str], texts: list[str], flat: list[float]) -> None:
        self.names = names
        self.texts = texts
        self.flat = flat
        self._where: dict[str, int] | None = None
        self._array: Array | None = None

    def array(self) -> Array:
        """The values as an array, a row per text (made once)."""
        if self._array is None:
            found = np.array(self.flat, dtype=float)
            self._array = found.reshape(len(self.texts), len(self.names))
        return self._array

    def _index(self) -> dict[str, int]:
        if self._where is None:
            self._where = {name: i for i, name in enumerate(self.names)}
        return self._where

    def __getitem__(self, name: str) -> dict[str, float]:
        at = self._index()[name]
        return dict(zip(self.texts, self.flat[at :: len(self.names)], strict=True))

    def __contains__(self, name: object) -> bool:
        return name in self._index()

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)


def by_key(groups: Mapping[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """The groups turned round: for each key, the value of every group that has it, by
    group name in the groups' order (a ``Block``'s blocks as they are)."""
    if isinstance(groups, Block):
        width = len(groups.names)
        return {
            text: dict(zip(groups.names, groups.flat[at : at + width], strict=True))
            for text, at in zip(groups.texts, range(0, len(groups.flat), width), strict=True)
        }
    found: dict[str, dict[str, float]] = {}
    for name, group in groups.items():
        for key, value in group.items():
            found.setdefault(key, {})[name] = value
    return found


def tables(groups: Mapping[str, dict[str, float]]) -> tuple[list[Table], list[str]]:
    """The groups (``{le text: count}``) of each layout shared by at least ``TABLE_MIN``
    of them, each bound spelled once, as tables of their finite rows; and the names of
    every other group, for the one-at-a-time path."""
    if isinstance(groups, Block):  # one layout: no group to make or to sort by layout
        return _block_tables(groups)
    layouts: dict[tuple[str, ...], list[str]] = {}
    for name, group in groups.items():
        layouts.setdefault(tuple(group), []).append(name)
    found: list[Table] = []
    rest: list[str] = []
    for texts, names in layouts.items():
        plan = layout(texts)
        if len(names) < TABLE_MIN or plan.single is None or not plan.bounds:
            rest += names
            continue
        getter = operator.itemgetter(*plan.single)
        counts = np.array([getter(groups[name]) for name in names], dtype=float)
        _finite(plan.bounds, names, counts.reshape(len(names), len(plan.bounds)), found, rest)
    return found, rest


def _block_tables(block: Block) -> tuple[list[Table], list[str]]:
    """``tables`` of a ``Block``: its values, a row per text, taken in bound order and
    turned to a row per name."""
    plan = layout(tuple(block.texts))
    if len(block) < TABLE_MIN or plan.single is None or not plan.bounds:
        return [], list(block.names)
    where = {text: row for row, text in enumerate(block.texts)}
    rows = [where[text] for text in plan.single]
    counts = np.ascontiguousarray(block.array()[rows].T)
    found: list[Table] = []
    rest: list[str] = []
    _finite(plan.bounds, block.names, counts, found, rest)
    return found, rest


def _finite(
    bounds: list[float], names: list[str], counts: Array, found: list[Table], rest: list[str]
) -> None:
    """The rows of ``counts`` with every count finite as a table onto ``found``; the
    names of the others onto ``rest``."""
    finite = np.logical_and.reduce(np.isfinite(counts), axis=1)  # (each row whole)
    if finite.all():
        found.append(Table(bounds, names, counts))
        return
    flags = finite.tolist()
    kept = [name for name, ok in zip(names, flags, strict=True) if ok]
    found.append(Table(bounds, kept, counts[finite]))
    rest += [name for name, ok in zip(names, flags, strict=True) if not ok]


def _interpolated(bounds: list[float]) -> bool:
    """Whether buckets of these bounds can hold a quantile (else every one is NaN)."""
    return len(bounds) >= 2 and bounds[-1] == math.inf


def table_quantiles(qs: Sequence[float], bounds: list[float], table: Array) -> Array:
    """``merged_quantiles`` of each row of ``table`` (one histogram's counts per row, in
    the order of ``bounds``, the last +Inf; every count finite): a row of quantiles per
    histogram, each the float64 ``_interpolate`` gives for that row."""
    counts = np.maximum.accumulate(table, axis=1)  # ensure_monotonic: no NaN to keep
    last = len(bounds) - 1
    edges = np.asarray(bounds, dtype=float)
    totals = counts[:, last]
    rows = np.arange(len(counts))
    out = np.empty((len(counts), len(qs)))
    for column, q in enumerate(qs):
        if not 0 <= q <= 1:
            out[:, column] = math.nan if math.isnan(q) else (-math.inf if q < 0 else math.inf)
            continue
        rank = q * totals
        reached = counts[:, :last] >= rank[:, None]
        # The first count at least the rank (sort.Search on monotonic counts), else last.
        b = np.where(reached.any(axis=1), reached.argmax(axis=1), last)
        inside = np.minimum(b, last - 1)
        after = b > 0
        before = np.maximum(inside - 1, 0)
        start = np.where(after, edges[before], 0.0)
        below = np.where(after, counts[rows, before], 0.0)
        count = counts[rows, inside] - below
        with np.errstate(divide="ignore", invalid="ignore"):  # Go's division: NaN, ±Inf
            found = start + (edges[inside] - start) * ((rank - below) / count)
        found = np.where(b == last, edges[last - 1], found)
        if edges[0] <= 0:
            found = np.where(b == 0, edges[0], found)
        out[:, column] = np.where(totals != 0, found, math.nan)
    return out
