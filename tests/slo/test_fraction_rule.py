"""The service's classic histogram_fraction against the independent implementation,
over many random histograms and thresholds (bounds included), and its special cases."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from app.promql.fraction import bucket_fraction
from tests.support import fraction


def cumulative(bounds: list[float], counts: list[float]) -> list[tuple[float, float]]:
    totals = itertools.accumulate(counts)
    return list(zip([*bounds, math.inf], totals, strict=True))


def test_random_histograms_agree_with_the_independent_rule():
    rng = random.Random(23)
    for _ in range(2000):
        bounds = sorted(rng.sample([0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0], 5))
        counts = [float(rng.randint(0, 20)) for _ in range(6)]
        if sum(counts) == 0:
            continue
        threshold = rng.choice([*bounds, rng.uniform(0, 12), 0.0001, 20.0])
        buckets = cumulative(bounds, counts)
        rng.shuffle(buckets)
        expected = fraction.share_under(threshold, bounds, counts)
        assert bucket_fraction(threshold, buckets) == pytest.approx(expected, rel=1e-12)


def test_bounds_spelled_twice_merge_before_the_share():
    split = [(0.5, 3.0), (0.5, 1.0), (1.0, 6.0), (math.inf, 8.0)]  # "0.5" and "5e-1"
    assert bucket_fraction(0.5, split) == pytest.approx(4 / 8)


def test_no_inf_bucket_or_no_observations_is_nan():
    assert math.isnan(bucket_fraction(0.5, [(0.5, 1.0), (1.0, 2.0)]))
    assert math.isnan(bucket_fraction(0.5, [(0.5, 0.0), (math.inf, 0.0)]))


def test_nothing_inside_the_inf_bucket_counts():
    assert bucket_fraction(1e9, [(1.0, 4.0), (math.inf, 8.0)]) == 0.5


def test_a_lowest_bound_at_or_below_zero_starts_at_minus_inf():
    buckets = [(0.0, 2.0), (1.0, 6.0), (math.inf, 8.0)]
    assert bucket_fraction(-0.5, buckets) == 2 / 8  # the whole -Inf bucket counts
    assert bucket_fraction(0.5, buckets) == (2 + 4 * 0.5) / 8
