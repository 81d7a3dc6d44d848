"""Prometheus's ``histogram_fraction`` for classic histograms, computed in the service.

The share of observations at or below a threshold, from one histogram's cumulative
bucket counts (``(upper_bound, count)`` pairs, as ``app/promql/quantile.py`` groups
them). This follows ``BucketFraction`` in Prometheus's ``promql/quantile.go`` (3.x,
where ``histogram_fraction`` took classic buckets) with the lower bound at -Inf:
sort by upper bound, NaN unless the highest bound is +Inf, merge buckets with equal
bounds, NaN for no observations; then

- a threshold equal to a bucket bound gives that bucket's cumulative count over the
  total (exact);
- a threshold inside a bucket interpolates linearly between its lower and upper bound;
  the lowest bucket starts at 0 when its bound is above 0, else at -Inf; inside an
  infinite-width bucket nothing is interpolated (a threshold inside the -Inf bucket
  counts all of it, one inside ``+Inf`` none of it).

Native histograms need no port: ``native_fractions_query`` asks the engine's own
``histogram_fraction`` (``HistogramFraction`` in the same file).

    >>> bucket_fraction(0.15, [(0.1, 5.0), (0.2, 7.0), (math.inf, 8.0)])
    0.75
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from app.promql.builder import SeriesSelector
from app.promql.native import native_rates
from app.promql.quantile import Bucket, coalesce
from app.promql.tables import Array

SAME_BOUND = 1e-12
"""Relative tolerance for a threshold to be a bucket's bound: thresholds come in as
milliseconds and are scaled to the metric's unit, which can differ in the last bit."""


def prepared(buckets: Iterable[Bucket]) -> tuple[list[float], list[float]] | None:
    """Sorted, merged bounds and counts, or None where every fraction is NaN."""
    ordered = sorted(buckets, key=lambda pair: pair[0])
    if not ordered:
        return None
    bounds, counts = coalesce(ordered)
    return (bounds, counts) if usable(bounds, counts) else None


def usable(bounds: list[float], counts: list[float]) -> bool:
    """Whether sorted, merged buckets give fractions: a +Inf bucket and observations."""
    return bool(bounds) and bounds[-1] == math.inf and counts[-1] != 0 and counts[-1] == counts[-1]


def bound_at(threshold: float, bounds: Sequence[float]) -> float | None:
    """The finite bucket bound that is ``threshold`` (by numeric value), if any."""
    return _bound_in(threshold, tuple(bounds))


@functools.lru_cache(maxsize=256)  # a few layouts and thresholds, asked for every model
def _bound_in(threshold: float, bounds: tuple[float, ...]) -> float | None:
    for bound in bounds:
        if math.isfinite(bound) and math.isclose(bound, threshold, rel_tol=SAME_BOUND):
            return bound
    return None


def fraction_below(threshold: float, bounds: Sequence[float], counts: Sequence[float]) -> float:
    """Share of observations at or below ``threshold`` (``BucketFraction(-Inf, t)``)."""
    total = counts[-1]
    if math.isnan(threshold):
        return math.nan
    rank = 0.0
    for i, upper in enumerate(bounds):
        lower = bounds[i - 1] if i > 0 else (0.0 if bounds[0] > 0 else -math.inf)
        if lower >= threshold:
            return min(rank, total) / total
        if lower < threshold < upper:
            if lower == -math.inf:
                return min(counts[i], total) / total
            found = rank + (counts[i] - rank) * (threshold - lower) / (upper - lower)
            return min(found, total) / total
        rank = counts[i]
    return 1.0


def table_fractions(threshold: float, bounds: list[float], counts: Array) -> Array:
    """``fraction_below`` of each row of ``counts`` (one histogram's counts per row, in
    the order of ``bounds``, the last its total, every total finite and not 0): the same
    float64 per row. With one threshold and one set of bounds every row leaves the loop
    at the same bucket, so only that bucket's arithmetic is done, a column at a time."""
    total = counts[:, -1]
    if math.isnan(threshold):
        return np.full(len(counts), math.nan)
    rank = np.zeros(len(counts))
    for i, upper in enumerate(bounds):
        lower = bounds[i - 1] if i > 0 else (0.0 if bounds[0] > 0 else -math.inf)
        if lower >= threshold:
            return _capped(rank, total)
        if lower < threshold < upper:
            if lower == -math.inf:
                return _capped(counts[:, i], total)
            found = rank + (counts[:, i] - rank) * (threshold - lower) / (upper - lower)
            return _capped(found, total)
        rank = counts[:, i]
    return np.ones(len(counts))


def _capped(found: Array, total: Array) -> Array:
    """``min(found, total) / total`` per row (Python's ``min``: ``found`` unless
    ``total`` is less)."""
    result: Array = np.where(total < found, total, found) / total
    return result


def bucket_fraction(threshold: float, buckets: Iterable[Bucket]) -> float:
    """The share of one histogram's observations at or below ``threshold``; NaN if none."""
    ready = prepared(buckets)
    if ready is None:
        return math.nan
    return fraction_below(threshold, *ready)


def part_label(sel: SeriesSelector) -> str:
    """The label ``native_fractions_query`` tags each part with; never the model label."""
    return "slo_part_" if sel.model_label == "slo_part" else "slo_part"


def native_fractions_query(
    sel: SeriesSelector, thresholds: Mapping[str, float], window_seconds: float
) -> str:
    """Native histograms: the engine's ``histogram_fraction(-Inf, t, ...)`` of each named
    threshold and the request rate (``histogram_count``), each tagged with its name
    (``rate`` for the count), and the summed histogram itself, untagged: its bucket
    bounds say whether a threshold is one of them (``label_replace`` drops histograms
    in Prometheus 2.x)."""
    rates = native_rates(sel, window_seconds)
    queries = {
        name: f"histogram_fraction(-Inf, {t:.17g}, {rates})" for name, t in thresholds.items()
    }
    queries["rate"] = f"histogram_count({rates})"
    tag = part_label(sel)
    tagged = (f'label_replace({q}, "{tag}", "{name}", "", "")' for name, q in queries.items())
    return " or ".join([*tagged, rates])
