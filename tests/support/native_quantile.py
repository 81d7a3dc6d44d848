"""Native histograms read from Prometheus's JSON, and a port of its quantile rules.

The service asks the engine for ``histogram_quantile`` itself (so its numbers are the
engine's own on every version); the tests use this port and parser to check those
numbers against an independent reading of the exact observations they fed.

    >>> h = parse_histogram({"count": "4", "sum": "3", "buckets": [[0, "0.5", "1", "4"]]})
    >>> native_quantile(0.5, h)
    0.75

Prometheus's rule changed twice (``QuantileRule.for_version``). Native histograms with
custom buckets (schema -53, 3.x) are not handled.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.promql.quantile import ieee_divide


class QuantileRule(enum.Enum):
    """How a Prometheus version computes ``histogram_quantile`` of a native histogram."""

    FORWARD_LINEAR = "2.40"  # 2.40-2.45: count up from the lowest bucket, linear inside
    TWO_SIDED_LINEAR = "2.46"  # 2.46-2.55: q >= 0.5 counts down from the highest bucket
    TWO_SIDED_EXPONENTIAL = "3.0"  # 3.0+: log-scale interpolation outside the zero bucket

    @classmethod
    def for_version(cls, version: str) -> QuantileRule:
        """The rule of a Prometheus version string such as ``2.42.0`` or ``3.1.0-rc.0``."""
        major, minor = (int(part) for part in version.split(".")[:2])
        if major >= 3:
            return cls.TWO_SIDED_EXPONENTIAL
        return cls.TWO_SIDED_LINEAR if minor >= 46 else cls.FORWARD_LINEAR


@dataclass(frozen=True, slots=True)
class NativeBucket:
    """One populated bucket as the JSON shows it (bounds already clamped to the zero bucket).

    ``boundaries``: 0 ``(lower, upper]``, 1 ``[lower, upper)``, 2 open, 3 closed.
    """

    boundaries: int
    lower: float
    upper: float
    count: float


@dataclass(frozen=True, slots=True)
class NativeHistogram:
    count: float
    sum: float
    buckets: tuple[NativeBucket, ...] = ()  # ascending, as Prometheus's AllBucketIterator


_NO_BUCKET = NativeBucket(0, 0.0, 0.0, 0.0)  # Go's zero value when nothing was iterated
_LOG2_E = 1.4426950408889634  # Go's 1/Ln2, rounded once from the exact constant

# ---------------------------------------------------------------- JSON


def parse_value(text: object) -> float:
    """A JSON sample value: Prometheus writes floats as strings, ``NaN`` and ``+Inf`` too."""
    if not isinstance(text, str):
        raise ValueError(f"expected a float string, got {text!r}")
    return float(text)  # Go's 'f' -1 formatting round-trips exactly


def parse_histogram(obj: Mapping[str, Any]) -> NativeHistogram:
    """The ``{"count", "sum", "buckets": [[boundaries, lower, upper, count], ...]}`` object.

    Raises ValueError when the object is not in that shape.
    """
    if not isinstance(obj, Mapping):
        raise ValueError(f"expected a histogram object, got {obj!r}")
    raw = obj.get("buckets", [])
    if not isinstance(raw, list):
        raise ValueError("histogram buckets must be a list")
    return NativeHistogram(
        parse_value(obj.get("count")), parse_value(obj.get("sum")), tuple(map(_bucket, raw))
    )


def _bucket(raw: object) -> NativeBucket:
    if not (isinstance(raw, list) and len(raw) == 4 and raw[0] in (0, 1, 2, 3)):
        raise ValueError(f"not a histogram bucket: {raw!r}")
    return NativeBucket(raw[0], parse_value(raw[1]), parse_value(raw[2]), parse_value(raw[3]))


def parse_histogram_sample(pair: Sequence[Any]) -> tuple[float, NativeHistogram]:
    """``[timestamp, {histogram}]``, the ``histogram`` field of an instant-vector sample
    (and each element of a range result's ``histograms`` list)."""
    if not (isinstance(pair, Sequence) and len(pair) == 2):
        raise ValueError(f"not a histogram sample: {pair!r}")
    return float(pair[0]), parse_histogram(pair[1])


def group_histograms(
    result: Iterable[Mapping[str, Any]], group_label: str
) -> dict[str, NativeHistogram]:
    """The histogram of each model in a ``native_rates`` vector result.

    Float samples (classic data of the same name) and samples without ``group_label``
    are skipped, as ``histogram_quantile`` skips floats when it reads histograms.
    """
    groups: dict[str, NativeHistogram] = {}
    for sample in result:
        name = sample.get("metric", {}).get(group_label)
        if name is not None and "histogram" in sample:
            groups[name] = parse_histogram_sample(sample["histogram"])[1]
    return groups


# ---------------------------------------------------------------- quantile


def native_quantile(
    q: float, h: NativeHistogram, rule: QuantileRule = QuantileRule.FORWARD_LINEAR
) -> float:
    """Quantile ``q`` (0..1) of a native histogram, as ``histogram_quantile`` computes it.

    As in Prometheus: ``q < 0`` gives -Inf, ``q > 1`` +Inf, NaN ``q`` or no observations
    NaN. The zero bucket starts (ends) at 0 when only positive (negative) buckets exist;
    a rank beyond every bucket (NaN observations) gives the highest upper bound, or NaN
    under the 3.x rule when the sum is NaN.
    """
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    if h.count == 0 or math.isnan(q):
        return math.nan
    forward = rule is QuantileRule.FORWARD_LINEAR or math.isnan(h.sum) or q < 0.5
    rank = q * h.count if forward else (1 - q) * h.count
    bucket, count = _walk(h.buckets if forward else h.buckets[::-1], rank)
    lower, upper = _zero_bucket_bounds(bucket, h.buckets)
    count = min(count, h.count)
    if count < rank:
        nan_sum = rule is QuantileRule.TWO_SIDED_EXPONENTIAL and math.isnan(h.sum)
        return math.nan if nan_sum else upper
    rank = rank - (count - bucket.count) if forward else count - rank
    fraction = ieee_divide(rank, bucket.count)
    if rule is not QuantileRule.TWO_SIDED_EXPONENTIAL or (lower <= 0 <= upper):
        return lower + (upper - lower) * fraction
    return _log_interpolate(lower, upper, fraction)


def native_quantiles(
    qs: Iterable[float], h: NativeHistogram, rule: QuantileRule = QuantileRule.FORWARD_LINEAR
) -> list[float]:
    return [native_quantile(q, h, rule) for q in qs]


def _walk(buckets: Sequence[NativeBucket], rank: float) -> tuple[NativeBucket, float]:
    """The first bucket whose running count reaches ``rank``, or the last one, and that count."""
    bucket, count = _NO_BUCKET, 0.0
    for bucket in buckets:
        if bucket.count == 0:  # never in the JSON; 3.x skips them, 2.x never sees them
            continue
        count += bucket.count
        if count >= rank:
            break
    return bucket, count


def _zero_bucket_bounds(
    bucket: NativeBucket, buckets: Sequence[NativeBucket]
) -> tuple[float, float]:
    lower, upper = bucket.lower, bucket.upper
    if lower < 0 < upper:  # the zero bucket, with a non-zero threshold
        negative = any(b.upper < 0 for b in buckets)
        positive = any(b.lower > 0 for b in buckets)
        if positive and not negative:
            lower = 0.0
        elif negative and not positive:
            upper = 0.0
    return lower, upper


def _log_interpolate(lower: float, upper: float, fraction: float) -> float:
    log_lower, log_upper = _go_log2(abs(lower)), _go_log2(abs(upper))
    if lower > 0:
        return math.pow(2.0, log_lower + (log_upper - log_lower) * fraction)
    return -math.pow(2.0, log_upper + (log_lower - log_upper) * (1 - fraction))


def _go_log2(x: float) -> float:
    """Go's ``math.Log2``: exact for powers of two, which every bucket bound of schema <= 0 is."""
    frac, exp = math.frexp(x)
    if frac == 0.5:
        return float(exp - 1)
    return math.log(frac) * _LOG2_E + exp
