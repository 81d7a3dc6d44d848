"""Exact observations as the series a client library would expose, for remote write.

The encoder and ``push`` are in harness/remote_write.py (the benchmark uses them too);
here, observations become cumulative native histograms and classic buckets, so a test
knows every observation behind Prometheus's answer.

    snaps = native_snapshots([(t0 + 3, 0.25), (t0 + 20, -1.5)], [t0 + 15, t0 + 30], schema=3)
    push(prom.url, [HistogramSeries({"__name__": "x", "model": "m"}, snaps)])
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from harness.remote_write import (
    FloatSeries,
    HistogramSeries,
    NativeHistogram,
    encode_histogram,
    push,
    spans_and_deltas,
    varint,
    zigzag,
)

__all__ = [
    "FloatSeries",
    "HistogramSeries",
    "NativeHistogram",
    "bucket_index",
    "classic_series",
    "encode_histogram",
    "native_snapshots",
    "push",
    "spans_and_deltas",
    "upper_bound",
    "varint",
    "zigzag",
]


def upper_bound(index: int, schema: int) -> float:
    """Upper bound of positive bucket ``index``: 2^(index * 2^-schema).

    Computed independently of Prometheus's table; equal to it within an ulp or two.
    """
    return math.ldexp(1.0, index << -schema) if schema <= 0 else 2.0 ** (index / (1 << schema))


def bucket_index(value: float, schema: int) -> int:
    """Index of the bucket holding ``abs(value)`` > 0: upper_bound(i-1) < |v| <= upper_bound(i)."""
    magnitude = abs(value)
    index = math.ceil(math.log2(magnitude) * 2.0**schema)
    # log2 may round across a boundary; settle on the exact inequality.
    while upper_bound(index, schema) < magnitude:
        index += 1
    while upper_bound(index - 1, schema) >= magnitude:
        index -= 1
    return index


@dataclass
class _Accumulator:
    schema: int
    zero_threshold: float
    count: int = 0
    sum: float = 0.0
    zero_count: int = 0
    positive: dict[int, int] = field(default_factory=dict)
    negative: dict[int, int] = field(default_factory=dict)

    def observe(self, value: float) -> None:
        self.count += 1
        self.sum += value
        if abs(value) <= self.zero_threshold:
            self.zero_count += 1
            return
        side = self.positive if value > 0 else self.negative
        index = bucket_index(value, self.schema)
        side[index] = side.get(index, 0) + 1

    def snapshot(self, timestamp_ms: int) -> NativeHistogram:
        return NativeHistogram(
            timestamp_ms=timestamp_ms,
            schema=self.schema,
            count=self.count,
            sum=self.sum,
            zero_threshold=self.zero_threshold,
            zero_count=self.zero_count,
            positive=dict(self.positive),
            negative=dict(self.negative),
        )


def native_snapshots(
    observations: Iterable[tuple[float, float]],
    timestamps: Iterable[float],
    *,
    schema: int,
    zero_threshold: float = 0.0,
) -> list[NativeHistogram]:
    """Cumulative native histograms at each of ``timestamps`` (unix seconds, ascending).

    ``observations`` are ``(unix_seconds, value)``; a snapshot at ``t`` holds every
    observation made at or before ``t``. Values with ``|v| <= zero_threshold`` go to the
    zero bucket, negative values to negative buckets.
    """
    pending = sorted(observations)
    acc = _Accumulator(schema, zero_threshold)
    snapshots: list[NativeHistogram] = []
    position = 0
    for stamp in timestamps:
        while position < len(pending) and pending[position][0] <= stamp:
            acc.observe(pending[position][1])
            position += 1
        snapshots.append(acc.snapshot(round(stamp * 1000)))
    return snapshots


def classic_series(
    metric: str,
    labels: Mapping[str, str],
    bounds: Sequence[float],
    observations: Iterable[tuple[float, float]],
    timestamps: Sequence[float],
) -> list[FloatSeries]:
    """``<metric>_bucket`` (one per ``le``, +Inf included), ``_count`` and ``_sum`` series."""
    pending = sorted(observations)
    les = [*bounds, math.inf]
    buckets: list[list[tuple[int, float]]] = [[] for _ in les]
    counts: list[tuple[int, float]] = []
    sums: list[tuple[int, float]] = []
    for stamp in timestamps:
        seen = [v for t, v in pending if t <= stamp]
        ms = round(stamp * 1000)
        for i, le in enumerate(les):
            buckets[i].append((ms, float(sum(1 for v in seen if v <= le))))
        counts.append((ms, float(len(seen))))
        sums.append((ms, math.fsum(seen)))
    out = [
        FloatSeries({**labels, "__name__": f"{metric}_bucket", "le": _le(le)}, samples)
        for le, samples in zip(les, buckets, strict=True)
    ]
    out.append(FloatSeries({**labels, "__name__": f"{metric}_count"}, counts))
    out.append(FloatSeries({**labels, "__name__": f"{metric}_sum"}, sums))
    return out


def _le(bound: float) -> str:
    return "+Inf" if math.isinf(bound) else repr(float(bound))
