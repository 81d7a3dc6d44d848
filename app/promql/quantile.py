"""Prometheus's ``histogram_quantile`` for classic histograms, computed in the service.

The percentile endpoints ask Prometheus once for the per-model bucket rates
(``sum by (model, le) (rate(x_bucket[w]))``) and compute every percentile here,
instead of one ``histogram_quantile`` query per percentile: Prometheus then
evaluates the expensive part once, however many percentiles a request wants.

This is a line-by-line port of ``bucketQuantile`` in Prometheus 2.42's
``promql/quantile.go`` (the version Debian ships), so the answers are the same
float64 numbers Prometheus would give: sort by upper bound, NaN unless the
highest bound is +Inf, merge buckets with equal bounds, force the counts
monotonic, NaN for fewer than two buckets or no observations, then interpolate
linearly inside the bucket that holds the rank.

    >>> bucket_quantile(0.5, [(0.1, 5.0), (0.2, 7.0), (1.0, 11.0), (math.inf, 12.0)])
    0.15000000000000002

Many histograms of one bucket layout are computed together as tables in
``app.promql.tables``.
"""

from __future__ import annotations

import functools
import math
import operator
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

Bucket = tuple[float, float]
"""``(upper_bound, cumulative_count)``, as the ``le`` label and the sample value."""
_BOUND = operator.itemgetter(0)

# Go's strconv.ParseFloat grammar: no spaces, no underscores (outside base prefixes,
# which a bucket label never uses), hexadecimal only with a binary exponent.
_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_HEX = re.compile(r"[+-]?0[xX]([0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?\d+")


@functools.lru_cache(maxsize=1024)  # a few distinct bounds, parsed for every sample
def parse_le(text: str) -> float | None:
    """The upper bound an ``le`` label names, or None where Prometheus skips the sample.

    Accepts exactly what Go's ``strconv.ParseFloat`` accepts (``+Inf``, ``1e0``,
    ``.2``); Python's ``float()`` is looser (spaces, ``1_0``), so it is not used alone.
    """
    lowered = text.lower()
    unsigned = lowered[1:] if lowered[:1] in ("+", "-") else lowered
    if unsigned in ("inf", "infinity"):
        return -math.inf if lowered[0] == "-" else math.inf
    if lowered == "nan":  # Go takes no sign on NaN
        return math.nan
    if _DECIMAL.fullmatch(text):
        value = float(text)
        # Go reports overflow (1e400) as an error, so Prometheus skips the sample.
        return value if math.isfinite(value) else None
    if _HEX.fullmatch(text):
        try:
            return float.fromhex(text)
        except OverflowError:
            return None
    return None


def bucket_quantile(q: float, buckets: Iterable[Bucket]) -> float:
    """Quantile ``q`` (0..1) of one histogram's cumulative buckets, as Prometheus computes it.

    Special cases, all as in Prometheus: NaN ``q`` gives NaN, ``q < 0`` gives -Inf,
    ``q > 1`` gives +Inf; no +Inf bucket, fewer than two distinct bounds or zero
    observations give NaN; a rank in the +Inf bucket gives the second-highest bound;
    a rank in a lowest bucket whose bound is <= 0 gives that bound.
    """
    return bucket_quantiles((q,), buckets)[0]


def bucket_quantiles(qs: Sequence[float], buckets: Iterable[Bucket]) -> list[float]:
    """Several quantiles of one histogram: its buckets are sorted and merged once."""
    # Stable like Go's insertion sort, which sort.Sort uses for up to 12 buckets.
    ordered = sorted(buckets, key=_BOUND)
    bounds, counts = coalesce(ordered) if ordered else ([], [])
    return merged_quantiles(qs, bounds, counts)


def merged_quantiles(qs: Sequence[float], bounds: list[float], counts: list[float]) -> list[float]:
    """Several quantiles of buckets already sorted and merged (``counts`` is made
    monotonic in place)."""
    usable = False
    if bounds and bounds[-1] == math.inf:
        ensure_monotonic(counts)
        usable = len(bounds) >= 2 and counts[-1] != 0
    out: list[float] = []
    for q in qs:
        if 0 <= q <= 1:  # (the usual case first: NaN is not in it)
            out.append(_interpolate(q * counts[-1], bounds, counts) if usable else math.nan)
        elif math.isnan(q):
            out.append(math.nan)
        else:
            out.append(-math.inf if q < 0 else math.inf)
    return out


def _interpolate(rank: float, bounds: list[float], counts: list[float]) -> float:
    """The value at ``rank`` of usable buckets: linear inside the bucket that holds it."""
    last = len(bounds) - 1
    # The first of counts[:last] at least rank, else last: Go's sort.Search(last, func(i)
    # bool { return counts[i] >= rank }), the same bisection, so NaN counts land where
    # Prometheus's do (inline: it runs for every percentile of every model).
    b, high = 0, last
    while b < high:
        middle = (b + high) >> 1
        if not counts[middle] >= rank:
            b = middle + 1
        else:
            high = middle
    if b == last:
        return bounds[last - 1]
    if b == 0 and bounds[0] <= 0:
        return bounds[0]
    start, count = 0.0, counts[b]
    if b > 0:
        start = bounds[b - 1]
        count -= counts[b - 1]
        rank -= counts[b - 1]
    return start + (bounds[b] - start) * ieee_divide(rank, count)


def ieee_divide(a: float, b: float) -> float:
    """``a / b`` as Go computes it: dividing by zero gives NaN or an infinity, no error."""
    if b != 0:
        return a / b
    if a == 0 or math.isnan(a):
        return math.nan
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


def coalesce(ordered: list[Bucket]) -> tuple[list[float], list[float]]:
    """Merge sorted buckets with equal bounds (``0.2`` and ``2e-1``) by adding their counts."""
    bounds = [ordered[0][0]]
    counts = [ordered[0][1]]
    for bound, count in ordered[1:]:
        if bound == bounds[-1]:
            counts[-1] += count
        else:
            bounds.append(bound)
            counts.append(count)
    return bounds, counts


def ensure_monotonic(counts: list[float]) -> None:
    """Raise any count below an earlier one to it (the envelope), in place."""
    highest = counts[0]
    for i in range(1, len(counts)):
        if counts[i] > highest:
            highest = counts[i]
        elif counts[i] < highest:
            counts[i] = highest


@dataclass(frozen=True, slots=True)
class Layout:
    """How one histogram's ``le`` texts, in the order they came, become sorted and merged
    buckets: the ``bounds``, and for each the texts whose counts add up to it."""

    bounds: list[float]
    texts: list[tuple[str, ...]]
    single: tuple[str, ...] | None  # one text per bound: no counts to add


@functools.lru_cache(maxsize=1024)  # a handful of layouts, shared by every model
def layout(texts: tuple[str, ...]) -> Layout:
    """The sorting and merging ``bucket_quantiles`` does, planned once per layout: sorted
    stably by bound, equal bounds merged in that order, bad ``le`` texts skipped."""
    parsed = [(bound, text) for text in texts if (bound := parse_le(text)) is not None]
    parsed.sort(key=_BOUND)
    bounds: list[float] = []
    merged: list[tuple[str, ...]] = []
    for bound, text in parsed:
        if bounds and bound == bounds[-1]:
            merged[-1] += (text,)
        else:
            bounds.append(bound)
            merged.append((text,))
    single = tuple(t for (t,) in merged) if all(len(m) == 1 for m in merged) else None
    return Layout(bounds, merged, single)


def cumulative(group: dict[str, float]) -> tuple[list[float], list[float]]:
    """One histogram's ``{le text: count}`` as sorted, merged bounds and counts (what
    ``coalesce`` makes of the sorted pairs, the same floats)."""
    plan = layout(tuple(group))
    if plan.single is not None:
        return plan.bounds, [group[text] for text in plan.single]
    return plan.bounds, [_added(group, texts) for texts in plan.texts]


def _added(group: dict[str, float], texts: tuple[str, ...]) -> float:
    total = group[texts[0]]
    for text in texts[1:]:
        total += group[text]
    return total


def bucket_lists(by: Mapping[str, dict[str, float]]) -> dict[str, list[Bucket]]:
    """Each group's ``{le text: count}`` as buckets, in the groups' order; an ``le`` that
    names no bound (``parse_le``) is skipped, as Prometheus skips it."""
    bounds: dict[str, float | None] = {}  # a handful of distinct `le` texts
    lists: dict[str, list[Bucket]] = {}
    for name, group in by.items():
        buckets: list[Bucket] = []
        for text, count in group.items():
            bound = bounds[text] if text in bounds else bounds.setdefault(text, parse_le(text))
            if bound is not None:
                buckets.append((bound, count))
        lists[name] = buckets
    return lists
