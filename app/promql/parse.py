"""Reading the ``data`` of a Prometheus HTTP API answer: vectors, matrices (float or
native histogram samples) and string lists, each checked as it is read; anything that
is not what the API documents raises ``Malformed``.

>>> parse_vector({"resultType": "vector", "result": [
...     {"metric": {"model": "a"}, "value": [1700000000, "0.25"]}]})[0].value
0.25
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, TypeVar

from app.promql.upstream import (
    HistogramSample,
    HistogramSeries,
    NativeHistogram,
    Sample,
    Series,
)

P = TypeVar("P")


class Malformed(ValueError):
    """A value in an answer is not of the shape the API promises."""


def to_number(text: object) -> float | None:
    """A sample value (a JSON string, as Prometheus sends it); NaN and infinities are None."""
    try:
        kind = type(text)
        if kind is str or kind is float or kind is int:  # (not bool, nor null)
            value = float(text)  # type: ignore[arg-type]
            return value if value - value == 0 else None  # (finite: inf - inf and NaN are NaN)
    except ValueError:
        pass
    raise Malformed(f"sample value {str(text)[:50]!r} is not a number")


def to_timestamp(value: object) -> float:
    """A sample timestamp: a JSON number as engines send it (a numeric string is taken)."""
    kind = type(value)
    # (Once per point of a range answer: the usual case without calling to_number.)
    stamp = float(value) if kind is float or kind is int else to_number(value)  # type: ignore[arg-type]
    if stamp is None or stamp - stamp != 0:
        raise Malformed("a sample timestamp is not a finite number")
    return stamp


def _labels(item: Mapping[str, Any]) -> Mapping[str, str]:
    metric = item.get("metric", {})
    if type(metric) is not dict:
        raise Malformed("metric is not an object")
    # JSON keys are strings already; a label value that is not a string (null, a number)
    # is a malformed answer, not a model called "None". (A plain loop: the hot path of
    # every answer, see docs/performance.md.)
    for value in metric.values():
        if type(value) is not str:
            raise Malformed("a label value is not a string")
    return metric


def parse_vector(data: Mapping[str, Any]) -> list[Sample]:
    if data.get("resultType") != "vector":
        raise Malformed(f"expected a vector, got {str(data.get('resultType'))[:50]!r}")
    samples: list[Sample] = []
    append = samples.append
    # Every sample of an instant answer carries the evaluation time: read it once.
    stamp_seen: object = None
    when = 0.0
    for item in data["result"]:
        if "value" not in item:
            append(histogram_sample(item))
            continue
        stamp, value = item["value"]
        if stamp != stamp_seen or type(stamp) is not type(stamp_seen):
            when = to_timestamp(stamp)
            stamp_seen = stamp
        append(Sample(_labels(item), when, to_number(value)))
    return samples


def histogram_sample(item: Mapping[str, Any]) -> HistogramSample:
    """A native histogram sample: ``"histogram": [t, {"count", "sum", "buckets"}]``, each
    bucket ``[boundary rule, lower, upper, count]`` (the rule says which ends are closed)."""
    stamp, histogram = item["histogram"]
    return HistogramSample(_labels(item), to_timestamp(stamp), None, native_histogram(histogram))


def native_histogram(histogram: Mapping[str, Any]) -> NativeHistogram:
    buckets = [
        (_bound(lower), _bound(upper), _count(count))
        for _, lower, upper, count in histogram.get("buckets") or ()
    ]
    return NativeHistogram(_count(histogram["count"]), buckets)


def _bound(text: object) -> float:
    try:
        return float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise Malformed(f"bucket bound {str(text)[:50]!r} is not a number") from None


def _count(text: object) -> float:
    value = to_number(text)
    return math.nan if value is None else value


def parse_matrix(data: Mapping[str, Any]) -> list[Series]:
    if data.get("resultType") != "matrix":
        raise Malformed(f"expected a matrix, got {str(data.get('resultType'))[:50]!r}")
    return [
        Series(
            _labels(item),
            [(to_timestamp(stamp), to_number(value)) for stamp, value in item["values"]],
        )
        if "histograms" not in item
        else histogram_series(item)
        for item in data["result"]
    ]


def histogram_series(item: Mapping[str, Any]) -> HistogramSeries:
    """A range series of native histograms (``"histograms": [[t, {...}], ...]``; float
    points of the same series, if any, stay in ``points``)."""
    points = [(to_timestamp(stamp), to_number(value)) for stamp, value in item.get("values", ())]
    histograms = [(to_timestamp(stamp), native_histogram(h)) for stamp, h in item["histograms"]]
    return HistogramSeries(_labels(item), points, histograms)


def parse_strings(data: object) -> list[str]:
    if type(data) is not list or any(type(item) is not str for item in data):
        raise Malformed("expected a list of strings")
    return data


def unchanged(parsed: P) -> P:
    return parsed
