"""Feed a real Prometheus exact data by remote write: native histograms and float samples.

A hand-written protobuf encoder for ``prometheus.WriteRequest`` (prompb/remote.proto and
prompb/types.proto, field numbers copied from there), snappy block compression, and a
helper that turns exact observations into the cumulative native histograms a client
library would expose, so a test knows every observation behind Prometheus's answer.

    snaps = native_snapshots([(t0 + 3, 0.25), (t0 + 20, -1.5)], [t0 + 15, t0 + 30], schema=3)
    push(prom.url, [HistogramSeries({"__name__": "x", "model": "m"}, snaps)])
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import cramjam
import httpx

REMOTE_WRITE_HEADERS = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}

# Wire types.
_VARINT, _FIXED64, _BYTES = 0, 1, 2


# ---------------------------------------------------------------- protobuf primitives


def varint(value: int) -> bytes:
    """Base-128 varint; negative int64 values are sent as their 64-bit two's complement."""
    value &= (1 << 64) - 1
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def zigzag(value: int) -> int:
    """sint32/sint64 encoding: 0, -1, 1, -2 ... become 0, 1, 2, 3 ..."""
    return (value << 1) ^ (value >> 63)


def _key(number: int, wire_type: int) -> bytes:
    return varint((number << 3) | wire_type)


def _uint(number: int, value: int) -> bytes:
    return _key(number, _VARINT) + varint(value)


def _sint(number: int, value: int) -> bytes:
    return _key(number, _VARINT) + varint(zigzag(value))


def _double(number: int, value: float) -> bytes:
    return _key(number, _FIXED64) + struct.pack("<d", value)


def _bytes(number: int, payload: bytes) -> bytes:
    return _key(number, _BYTES) + varint(len(payload)) + payload


def _packed_sint(number: int, values: Sequence[int]) -> bytes:
    if not values:
        return b""
    return _bytes(number, b"".join(varint(zigzag(v)) for v in values))


# ---------------------------------------------------------------- prompb messages


@dataclass(frozen=True)
class NativeHistogram:
    """One cumulative integer native histogram at ``timestamp_ms``.

    ``positive`` and ``negative`` map bucket index to the (absolute) count in that bucket;
    negative bucket ``i`` holds values in [-2^(i*2^-s), -2^((i-1)*2^-s)).
    """

    timestamp_ms: int
    schema: int
    count: int
    sum: float
    zero_threshold: float = 0.0
    zero_count: int = 0
    positive: Mapping[int, int] = field(default_factory=dict)
    negative: Mapping[int, int] = field(default_factory=dict)
    reset_hint: int = 0  # UNKNOWN: let Prometheus detect resets


def spans_and_deltas(buckets: Mapping[int, int]) -> tuple[list[tuple[int, int]], list[int]]:
    """Sparse ``index -> count`` as prompb spans ``(offset, length)`` and count deltas.

    The first span's offset is the first index; later offsets are the gap to the previous
    span. Each delta is the count minus the previous bucket's count (0 before the first).
    """
    spans: list[tuple[int, int]] = []
    deltas: list[int] = []
    previous_index: int | None = None
    previous_count = 0
    for index in sorted(buckets):
        if previous_index is not None and index == previous_index + 1:
            offset, length = spans[-1]
            spans[-1] = (offset, length + 1)
        else:
            gap = index if previous_index is None else index - previous_index - 1
            spans.append((gap, 1))
        deltas.append(buckets[index] - previous_count)
        previous_index, previous_count = index, buckets[index]
    return spans, deltas


def _span(offset: int, length: int) -> bytes:
    return _sint(1, offset) + _uint(2, length)


def encode_histogram(h: NativeHistogram) -> bytes:
    """A ``prometheus.Histogram`` message with integer counts (count_int, *_deltas)."""
    neg_spans, neg_deltas = spans_and_deltas(h.negative)
    pos_spans, pos_deltas = spans_and_deltas(h.positive)
    parts = [
        _uint(1, h.count),  # count_int: a oneof member, so written even when 0
        _double(3, h.sum),
        _sint(4, h.schema),
        _double(5, h.zero_threshold),
        _uint(6, h.zero_count),  # zero_count_int, also a oneof member
        *(_bytes(8, _span(o, n)) for o, n in neg_spans),
        _packed_sint(9, neg_deltas),
        *(_bytes(11, _span(o, n)) for o, n in pos_spans),
        _packed_sint(12, pos_deltas),
        _uint(14, h.reset_hint) if h.reset_hint else b"",
        _uint(15, h.timestamp_ms),
    ]
    return b"".join(parts)


@dataclass(frozen=True)
class HistogramSeries:
    labels: Mapping[str, str]  # including __name__
    histograms: Sequence[NativeHistogram]


@dataclass(frozen=True)
class FloatSeries:
    labels: Mapping[str, str]  # including __name__
    samples: Sequence[tuple[int, float]]  # (timestamp_ms, value)


def _labels(labels: Mapping[str, str]) -> bytes:
    # Prometheus expects labels sorted by name.
    return b"".join(
        _bytes(1, _bytes(1, name.encode()) + _bytes(2, labels[name].encode()))
        for name in sorted(labels)
    )


def encode_series(series: HistogramSeries | FloatSeries) -> bytes:
    """A ``prometheus.TimeSeries``: labels = 1, samples = 2, histograms = 4."""
    body = _labels(series.labels)
    if isinstance(series, FloatSeries):
        for stamp, value in series.samples:
            body += _bytes(2, _double(1, value) + _uint(2, stamp))
    else:
        for h in series.histograms:
            body += _bytes(4, encode_histogram(h))
    return body


def encode_write_request(series: Iterable[HistogramSeries | FloatSeries]) -> bytes:
    """A ``prometheus.WriteRequest`` (timeseries = 1), not yet compressed."""
    return b"".join(_bytes(1, encode_series(s)) for s in series)


def compress(payload: bytes) -> bytes:
    """Snappy *block* format, as remote write requires (not the framed stream format)."""
    return bytes(cramjam.snappy.compress_raw(payload))


def push(
    base_url: str, series: Iterable[HistogramSeries | FloatSeries], *, timeout: float = 30
) -> None:
    """POST one WriteRequest to ``/api/v1/write``; raise with Prometheus's message on refusal."""
    body = compress(encode_write_request(series))
    response = httpx.post(
        base_url + "/api/v1/write", content=body, headers=REMOTE_WRITE_HEADERS, timeout=timeout
    )
    if response.status_code // 100 != 2:
        raise RuntimeError(f"remote write refused ({response.status_code}): {response.text}")


# ---------------------------------------------------------------- observations -> histograms


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
