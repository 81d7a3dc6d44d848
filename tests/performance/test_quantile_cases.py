"""``bucket_quantile`` against the cases of Prometheus's promql/testdata/histograms.test.

Each case is translated by hand: the series are ``load 5m`` counters ``0+Nx10``,
so at 50m a bucket holds ``10 * N`` and its 5m rate is ``N / 300``. The expected
numbers are Prometheus's own, copied from the test file; like Prometheus's test
runner we compare them with a relative tolerance of 1e-6 (they are printed rounded).
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Mapping, Sequence

import pytest

from app.promql import tables
from app.promql.quantile import (
    bucket_lists,
    bucket_quantile,
    cumulative,
    merged_quantiles,
    parse_le,
)
from app.promql.screen import grouped
from app.promql.tables import grouped_quantiles
from app.promql.upstream import Kept, KeptSample, Keys

INF = math.inf

# testhistogram_bucket: increments per 5m, keyed by the label text Prometheus parses.
POSITIVE = {"0.1": 5, ".2": 7, "1e0": 11, "+Inf": 12}
NEGATIVE = {"-.2": 1, "-0.1": 2, "0.3": 2, "+Inf": 3}

# request_duration_seconds_bucket: (job, instance) -> {le: increment}.
REQUESTS = {
    ("job1", "ins1"): {"0.1": 1, "0.2": 3, "+Inf": 4},
    ("job1", "ins2"): {"0.1": 2, "0.2": 5, "+Inf": 6},
    ("job2", "ins1"): {"0.1": 3, "0.2": 4, "+Inf": 6},
    ("job2", "ins2"): {"0.1": 4, "0.2": 7, "+Inf": 9},
}

MIXED_INS1 = [("0.1", 1), ("0.2", 1), ("2e-1", 1), ("2.0e-1", 1), ("+Inf", 4)]
MIXED_INS2 = [("+inf", 0), ("+Inf", 0)]
NONMONOTONIC = [("0.1", 1), ("1", 9), ("10", 8), ("100", 8), ("1000", 9), ("+Inf", 9)]


def buckets(increments: Mapping[str, float] | Sequence[tuple[str, float]], scale: float):
    pairs = increments.items() if isinstance(increments, Mapping) else increments
    out = []
    for le, inc in pairs:
        bound = parse_le(le)
        assert bound is not None
        out.append((bound, inc * scale))
    return out


def aggregate(by: tuple[str, ...], scale: float) -> dict[tuple[str, ...], list]:
    """``sum by (le, <by>) (rate(request_duration_seconds_bucket[5m]))``, computed here."""
    sums: dict[tuple[str, ...], dict[str, float]] = {}
    for (job, instance), series in REQUESTS.items():
        labels = {"job": job, "instance": instance}
        key = tuple(labels[name] for name in by)
        group = sums.setdefault(key, {})
        for le, inc in series.items():
            group[le] = group.get(le, 0.0) + inc * scale
    return {key: buckets(group, 1.0) for key, group in sums.items()}


def close(actual: float, expected: float) -> bool:
    if math.isnan(expected) or math.isinf(expected):
        return actual == expected or (math.isnan(actual) and math.isnan(expected))
    return math.isclose(actual, expected, rel_tol=1e-6, abs_tol=1e-12)


@pytest.mark.parametrize(
    ("q", "positive", "negative"),
    [
        (-0.1, -INF, -INF),  # quantile too low
        (1.01, INF, INF),  # quantile too high
        (0, 0, -0.2),  # lowest bucket: positive interpolates from 0, negative returns its bound
        (1, 1, 0.3),  # highest bucket: the second-highest bound
        (0.2, 0.048, -0.2),
        (0.5, 0.15, -0.15),
        (0.8, 0.72, 0.3),
    ],
)
@pytest.mark.parametrize("scale", [10, 1 / 300], ids=["raw-at-50m", "rate-5m"])
def test_testhistogram(q, positive, negative, scale):
    assert close(bucket_quantile(q, buckets(POSITIVE, scale)), positive)
    assert close(bucket_quantile(q, buckets(NEGATIVE, scale)), negative)


@pytest.mark.parametrize(
    ("q", "expected"), [(0.3, 0.075), (0.5, 0.1277777777777778)], ids=["q0.3", "q0.5"]
)
@pytest.mark.parametrize("average", [False, True], ids=["sum", "avg"])
def test_everything_in_one(q, expected, average):
    (merged,) = aggregate((), 1 / 300).values()
    if average:  # avg by (le) divides every bucket by the same 4: the quantile is unchanged
        merged = [(bound, count / 4) for bound, count in merged]
    assert close(bucket_quantile(q, merged), expected)


@pytest.mark.parametrize(
    ("by", "q", "expected"),
    [
        (("instance",), 0.3, {("ins1",): 0.075, ("ins2",): 0.075}),
        (("instance",), 0.5, {("ins1",): 0.1333333333, ("ins2",): 0.125}),
        (("job",), 0.3, {("job1",): 0.1, ("job2",): 0.0642857142857143}),
        (("job",), 0.5, {("job1",): 0.14, ("job2",): 0.1125}),
        (
            ("job", "instance"),
            0.3,
            {
                ("job1", "ins1"): 0.11,
                ("job1", "ins2"): 0.09,
                ("job2", "ins1"): 0.06,
                ("job2", "ins2"): 0.0675,
            },
        ),
        (
            ("job", "instance"),
            0.5,
            {
                ("job1", "ins1"): 0.15,
                ("job1", "ins2"): 0.1333333333333333,
                ("job2", "ins1"): 0.1,
                ("job2", "ins2"): 0.1166666666666667,
            },
        ),
    ],
)
def test_aggregated(by, q, expected):
    groups = aggregate(by, 1 / 300)
    assert set(groups) == set(expected)
    for key, value in expected.items():
        assert close(bucket_quantile(q, groups[key]), value), key


@pytest.mark.parametrize(("q", "ins1"), [(0.5, 0.15), (0.75, 0.2), (1, 0.2)])
def test_mixed_le_representations(q, ins1):
    assert close(bucket_quantile(q, buckets(MIXED_INS1, 1 / 300)), ins1)
    # '+inf' and '+Inf' coalesce into one bucket: fewer than two buckets is NaN.
    assert math.isnan(bucket_quantile(q, buckets(MIXED_INS2, 1 / 300)))


def test_nonmonotonic_buckets_use_the_envelope():
    assert close(bucket_quantile(0.99, buckets(NONMONOTONIC, 10)), 0.989875)


@pytest.mark.parametrize(
    ("case", "data"),
    [
        ("no +Inf bucket", [(0.1, 1.0), (0.2, 2.0)]),
        ("only +Inf", [(INF, 5.0)]),
        ("no observations", [(0.1, 0.0), (0.2, 0.0), (INF, 0.0)]),
        ("empty", []),
    ],
)
def test_nan_cases(case, data):
    assert math.isnan(bucket_quantile(0.5, data)), case


def test_nan_quantile_is_nan():
    assert math.isnan(bucket_quantile(math.nan, buckets(POSITIVE, 10)))


def test_unsorted_input_is_sorted_first():
    shuffled = list(reversed(buckets(POSITIVE, 10)))
    assert close(bucket_quantile(0.5, shuffled), 0.15)


def test_bucket_lists_skip_bad_le_and_missing_model():
    samples = [
        KeptSample(Kept("a", "0.1"), (0.0, 1.0)),
        KeptSample(Kept("a", " 1"), (0.0, 5.0)),  # Go's ParseFloat rejects the space
        KeptSample(Kept("a", "+Inf"), (0.0, 2.0)),
        KeptSample(Kept(None, "+Inf"), (0.0, 9.0)),
        KeptSample(Kept("b"), (0.0, 3.0)),
        KeptSample(Kept("c", "+Inf"), (0.0, math.nan)),  # no number
    ]
    lists = bucket_lists(grouped(samples, Keys("model", "le"), counts=True).by)
    assert math.isnan(lists.pop("c")[0][1])
    assert lists == {"a": [(0.1, 1.0), (INF, 2.0)]}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+Inf", INF),
        ("-Infinity", -INF),
        ("1e0", 1.0),
        (".2", 0.2),
        ("-.2", -0.2),
        ("2.0e-1", 0.2),
        ("0x1p-2", 0.25),
        ("1_0", None),
        ("0x10", None),
        ("1e400", None),
        ("+nan", None),
        ("", None),
    ],
)
def test_parse_le_follows_go(text, expected):
    assert parse_le(text) == expected


def random_groups(rng: random.Random, texts: list[str], count: int) -> dict[str, dict[str, float]]:
    """``count`` histograms of one layout: non-monotonic, empty, tied, fractional counts."""
    groups = {}
    for n in range(count):
        counts = [rng.choice([0.0, 0.0, 1.0, 2.5, 1 / 3, 7.0, 1e-9]) for _ in texts]
        if n % 3:
            counts = list(itertools.accumulate(counts))
        if n % 7 == 0:
            counts = [0.0] * len(texts)
        groups[f"m{n:03d}"] = dict(zip(texts, counts, strict=True))
    return groups


LAYOUTS = [
    ["0.1", "0.5", "1", "2.5", "+Inf"],
    ["-1", "-0.5", "0", "0.5", "+Inf"],  # bounds <= 0: the lowest bucket's special case
    ["0", "1", "+Inf"],
    ["+Inf", "0.25", "1", "0.5"],  # in the order the engine sent them, not sorted
    ["0.1", "0.2", "1"],  # no +Inf: NaN
]
QS = [0.0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0, -0.5, 1.5, math.nan]


@pytest.mark.parametrize("texts", LAYOUTS, ids=",".join)
@pytest.mark.parametrize("seed", range(5))
def test_table_equals_one_histogram_at_a_time(texts, seed, monkeypatch):
    """The table path gives the very float64 numbers of ``merged_quantiles`` per histogram."""
    groups = random_groups(random.Random(seed), texts, 60)
    monkeypatch.setattr(tables, "TABLE_MIN", 1)
    found = grouped_quantiles(QS, groups)
    for name, group in groups.items():
        expected = merged_quantiles(QS, *cumulative(group))
        assert [str(v) for v in found[name]] == [str(v) for v in expected], name


def test_table_leaves_non_finite_counts_to_one_histogram_at_a_time(monkeypatch):
    """A NaN count keeps Go's bisection rules (which the table does not follow)."""
    texts = ["0.1", "0.5", "+Inf"]
    groups = random_groups(random.Random(1), texts, 20)
    groups["nan"] = {"0.1": 1.0, "0.5": math.nan, "+Inf": 4.0}
    groups["inf"] = {"0.1": 1.0, "0.5": math.inf, "+Inf": 4.0}
    monkeypatch.setattr(tables, "TABLE_MIN", 1)
    found = grouped_quantiles([0.25, 0.5, 0.75], groups)
    for name in ("nan", "inf"):
        expected = merged_quantiles([0.25, 0.5, 0.75], *cumulative(groups[name]))
        assert [str(v) for v in found[name]] == [str(v) for v in expected]
    # Go's search passes over the NaN count to the +Inf bucket: the second-highest bound.
    assert found["nan"][1] == 0.5
