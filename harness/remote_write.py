"""Feed a real Prometheus by remote write: a ``WriteRequest`` encoder, and a Prometheus
that accepts it (native histograms on, an empty TSDB).

A hand-written protobuf encoder for ``prometheus.WriteRequest`` (prompb/remote.proto and
prompb/types.proto, field numbers copied from there) and snappy block compression: no
protobuf dependency for one message type.

    with NativePrometheus.empty(workdir) as prom:
        series = HistogramSeries({"__name__": "x", "model": "m"}, [NativeHistogram(...)])
        push(prom.url, [series])

The TSDB refuses samples older than its newest block (and, in the head, more than an
hour before the newest sample), so feed a fresh server recent timestamps, each series
in time order: the last half hour at 15 s steps is comfortably inside.

Shared by the benchmark (bench/native.py) and, once they point here, the native tests
(whose helpers turning observations into histograms stay in tests/support).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cramjam
import httpx

from harness.prometheus import PrometheusServer

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


# ---------------------------------------------------------------- the receiving server

NATIVE_FLAGS = ("--enable-feature=native-histograms", "--web.enable-remote-write-receiver")


class NativePrometheus(PrometheusServer):
    """PrometheusServer with native histograms and the remote-write receiver switched on."""

    extra_flags = NATIVE_FLAGS

    @classmethod
    def empty(cls, workdir: Path, **kwargs: Any) -> NativePrometheus:
        data_dir = workdir / "tsdb"
        data_dir.mkdir(parents=True, exist_ok=True)
        return cls(workdir, data_dir, **kwargs)

    def query(self, promql: str, *, at: float) -> list[dict[str, Any]]:
        """An instant query's ``result`` list; raises on an error answer."""
        response = httpx.get(
            self.url + "/api/v1/query", params={"query": promql, "time": at}, timeout=30
        )
        body = response.json()
        if body.get("status") != "success":
            raise RuntimeError(f"{promql}: {body}")
        result: list[dict[str, Any]] = body["data"]["result"]
        return result
