"""Native-histogram quantiles straight from observations, independent of the service.

The rule Prometheus 2.4x documents for native histograms: buckets
``(2^((i-1)/2^s), 2^(i/2^s)]`` (mirrored for negative values), a zero bucket
``[-threshold, threshold]`` that starts (ends) at 0 when only positive (negative)
buckets are populated, and linear interpolation inside the bucket holding rank ``q * n``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from tests.support.remote_write import bucket_index, upper_bound


def native_buckets(
    values: Sequence[float], schema: int, threshold: float
) -> list[tuple[float, float, int]]:
    """``(lower, upper, count)`` of every populated bucket, from the lowest up."""
    zero = sum(1 for v in values if abs(v) <= threshold)
    pos: dict[int, int] = {}
    neg: dict[int, int] = {}
    for v in values:
        if abs(v) > threshold:
            side = pos if v > 0 else neg
            side[bucket_index(v, schema)] = side.get(bucket_index(v, schema), 0) + 1
    out = [
        (-upper_bound(i, schema), min(-upper_bound(i - 1, schema), -threshold), neg[i])
        for i in sorted(neg, reverse=True)
    ]
    if zero:
        lower = 0.0 if pos and not neg else -threshold
        upper = 0.0 if neg and not pos else threshold
        out.append((lower, upper, zero))
    out += [
        (max(upper_bound(i - 1, schema), threshold), upper_bound(i, schema), pos[i])
        for i in sorted(pos)
    ]
    return out


def expected_native_quantile(
    q: float, values: Sequence[float], schema: int, threshold: float
) -> float:
    if not values:
        return math.nan
    rank = q * len(values)
    below = 0
    for lower, upper, count in native_buckets(values, schema, threshold):
        if below + count >= rank:
            return lower + (upper - lower) * (rank - below) / count
        below += count
    raise AssertionError("rank beyond the last bucket")
