"""The native-histogram builders, parser and quantile rules without a Prometheus.

The 3.x (exponential) rule cannot be checked against the Prometheus 2.42 the tests
start, so its cases are Prometheus's own, from promql/promqltest/testdata/
native_histograms.test (histogram_quantile_1 .. _3).
"""

from __future__ import annotations

import math

import pytest

from app.promql.builder import SeriesSelector
from app.promql.native import (
    histogram_kinds_query,
    kind_label,
    native_quantile_query,
    native_rates,
    parse_histogram_kinds,
)
from tests.support.native_quantile import (
    NativeBucket,
    NativeHistogram,
    QuantileRule,
    group_histograms,
    native_quantile,
    parse_histogram,
    parse_histogram_sample,
)
from tests.support.remote_write import (
    NativeHistogram as WireHistogram,
)
from tests.support.remote_write import (
    bucket_index,
    encode_histogram,
    native_snapshots,
    spans_and_deltas,
    varint,
    zigzag,
)

EXPONENTIAL = QuantileRule.TWO_SIDED_EXPONENTIAL


def schema0(
    count: float, total: float, zero: float, width: float, pos=(), neg=()
) -> NativeHistogram:
    """A schema-0 histogram as the JSON would show it: populated buckets, lowest first."""
    buckets = [
        NativeBucket(1, -(2.0**i), -(2.0 ** (i - 1)), c) for i, c in reversed(list(enumerate(neg)))
    ]
    buckets += [NativeBucket(3, -width, width, zero)] if zero else []
    buckets += [NativeBucket(0, 2.0 ** (i - 1), 2.0**i, c) for i, c in enumerate(pos)]
    return NativeHistogram(count, total, tuple(b for b in buckets if b.count))


ONLY_POSITIVE = schema0(12, 100, 2, 0.001, pos=[2, 3, 0, 1, 4])
ONLY_NEGATIVE = schema0(12, 100, 2, 0.001, neg=[2, 3, 0, 1, 4])
BOTH_SIDES = schema0(24, 100, 4, 0.001, pos=[2, 3, 0, 1, 4], neg=[2, 3, 0, 1, 4])


@pytest.mark.parametrize(
    ("h", "q", "expected"),
    [
        (ONLY_POSITIVE, 1, 16),
        (ONLY_POSITIVE, 0.99, 15.67072476139083),
        (ONLY_POSITIVE, 0.9, 12.99603834169977),
        (ONLY_POSITIVE, 0.6, 4.594793419988138),
        (ONLY_POSITIVE, 0.5, 1.5874010519681994),
        (ONLY_POSITIVE, 0.1, 0.0006),
        (ONLY_POSITIVE, 0, 0),
        (ONLY_NEGATIVE, 1, 0),
        (ONLY_NEGATIVE, 0.99, -0.00006),
        (ONLY_NEGATIVE, 0.9, -0.0006),
        (ONLY_NEGATIVE, 0.5, -1.5874010519681996),
        (ONLY_NEGATIVE, 0.1, -12.996038341699768),
        (ONLY_NEGATIVE, 0, -16),
        (BOTH_SIDES, 1, 16),
        (BOTH_SIDES, 0.99, 15.34822590920423),
        (BOTH_SIDES, 0.9, 10.556063286183155),
        (BOTH_SIDES, 0.7, 1.2030250360821164),
        (BOTH_SIDES, 0.55, 0.0006),
        (BOTH_SIDES, 0.5, 0),
        (BOTH_SIDES, 0.45, -0.0006),
        (BOTH_SIDES, 0.3, -1.2030250360821169),
        (BOTH_SIDES, 0.1, -10.556063286183155),
        (BOTH_SIDES, 0.01, -15.34822590920423),
        (BOTH_SIDES, 0, -16),
    ],
)
def test_exponential_rule_matches_prometheus_3_test_data(
    h: NativeHistogram, q: float, expected: float
) -> None:
    assert native_quantile(q, h, EXPONENTIAL) == pytest.approx(expected, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("rule", list(QuantileRule))
def test_special_cases_follow_prometheus(rule: QuantileRule) -> None:
    assert native_quantile(-0.1, ONLY_POSITIVE, rule) == -math.inf
    assert native_quantile(1.1, ONLY_POSITIVE, rule) == math.inf
    assert math.isnan(native_quantile(math.nan, ONLY_POSITIVE, rule))
    assert math.isnan(native_quantile(0.5, NativeHistogram(0, 0), rule))


def test_linear_rules_agree_and_interpolate_inside_the_bucket() -> None:
    # Rank 6 of 12: 4 lie in the zero bucket and (0.5, 1], so 2 of the 3 in (1, 2].
    assert native_quantile(0.5, ONLY_POSITIVE) == pytest.approx(1 + 2 / 3, rel=1e-15)
    for q in (0.05, 0.3, 0.5, 0.75, 0.99):
        forward = native_quantile(q, BOTH_SIDES, QuantileRule.FORWARD_LINEAR)
        two_sided = native_quantile(q, BOTH_SIDES, QuantileRule.TWO_SIDED_LINEAR)
        assert two_sided == pytest.approx(forward, rel=1e-12, abs=1e-15)


def test_nan_observations_beyond_every_bucket() -> None:
    # 2 NaN observations: counted, in no bucket, and the sum is NaN.
    h = NativeHistogram(14, math.nan, ONLY_POSITIVE.buckets)
    assert native_quantile(1, h, QuantileRule.FORWARD_LINEAR) == 16
    assert math.isnan(native_quantile(1, h, EXPONENTIAL))


@pytest.mark.parametrize(
    ("version", "rule"),
    [
        ("2.42.0", QuantileRule.FORWARD_LINEAR),
        ("2.45.6", QuantileRule.FORWARD_LINEAR),
        ("2.46.0", QuantileRule.TWO_SIDED_LINEAR),
        ("2.55.1", QuantileRule.TWO_SIDED_LINEAR),
        ("3.0.0-rc.1", QuantileRule.TWO_SIDED_EXPONENTIAL),
        ("3.5.0", QuantileRule.TWO_SIDED_EXPONENTIAL),
    ],
)
def test_rule_for_version(version: str, rule: QuantileRule) -> None:
    assert QuantileRule.for_version(version) is rule


def test_parser_reads_the_documented_json() -> None:
    sample = [
        1435781451.781,
        {
            "count": "42",
            "sum": "34593.34",
            "buckets": [
                [3, "-0.25", "0.25", "3"],
                [0, "0.25", "0.5", "12"],
                [0, "0.5", "1", "21"],
                [0, "2", "4", "6"],
            ],
        },
    ]
    stamp, h = parse_histogram_sample(sample)
    assert stamp == 1435781451.781
    assert (h.count, h.sum) == (42, 34593.34)
    assert h.buckets[0] == NativeBucket(3, -0.25, 0.25, 3.0)
    assert len(h.buckets) == 4


def test_parser_reads_special_values_and_no_buckets() -> None:
    h = parse_histogram({"count": "0", "sum": "NaN"})
    assert (h.count, h.buckets) == (0, ())
    assert math.isnan(h.sum)


@pytest.mark.parametrize(
    "bad",
    [
        {"count": 3, "sum": "1"},
        {"count": "3", "sum": "1", "buckets": {}},
        {"count": "3", "sum": "1", "buckets": [[7, "0", "1", "3"]]},
        {"count": "3", "sum": "1", "buckets": [[0, "0", "1"]]},
        {"count": "x", "sum": "1"},
        ["count", "3"],
    ],
)
def test_parser_refuses_other_shapes(bad: object) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - any ValueError is the contract
        parse_histogram(bad)  # type: ignore[arg-type]


def test_group_histograms_skips_floats_and_unlabelled() -> None:
    h = {"count": "1", "sum": "1", "buckets": [[0, "0.5", "1", "1"]]}
    result = [
        {"metric": {"model": "a"}, "histogram": [1, h]},
        {"metric": {"model": "b"}, "value": [1, "3"]},
        {"metric": {}, "histogram": [1, h]},
    ]
    assert list(group_histograms(result, "model")) == ["a"]


SEL = SeriesSelector("lat_seconds", "model", ('we"ird', "b"), ('job="api"',))


def test_builders_write_escaped_native_queries() -> None:
    assert native_rates(SEL, 300) == (
        'sum by (model) (rate(lat_seconds{job="api",model=~"b|we\\"ird"}[5m]))'
    )
    assert native_quantile_query(0.99, SeriesSelector("x", "model"), 90) == (
        "histogram_quantile(0.99, sum by (model) (rate(x{}[1m30s])))"
    )


def test_kinds_query_tags_each_arm() -> None:
    query = histogram_kinds_query(SEL, 300)
    assert 'rate(lat_seconds_bucket{job="api",model=~"b|we\\"ird"}[5m])' in query
    assert 'histogram_count(rate(lat_seconds{job="api",model=~"b|we\\"ird"}[5m]))' in query
    assert '"histogram_kind", "classic"' in query
    assert '"histogram_kind", "native"' in query


def test_kind_label_never_collides_with_the_model_label() -> None:
    sel = SeriesSelector("x", "histogram_kind")
    assert kind_label(sel) != "histogram_kind"
    metric = {"histogram_kind": "m", kind_label(sel): "native"}
    assert parse_histogram_kinds([metric], sel) == {"m": frozenset({"native"})}


# ---------------------------------------------------------------- the remote-write helpers


def test_varint_and_zigzag_follow_protobuf() -> None:
    assert varint(300) == b"\xac\x02"
    assert varint(-1) == b"\xff" * 9 + b"\x01"
    assert [zigzag(v) for v in (0, -1, 1, -2, 2)] == [0, 1, 2, 3, 4]


def test_spans_and_deltas_are_prompb_layout() -> None:
    spans, deltas = spans_and_deltas({-2: 1, -1: 3, 3: 2, 4: 2})
    assert spans == [(-2, 2), (3, 2)]
    assert deltas == [1, 2, -1, 0]


def test_bucket_index_puts_bounds_in_the_lower_bucket() -> None:
    assert bucket_index(1.0, 0) == 0  # (0.5, 1]
    assert bucket_index(1.0000001, 0) == 1
    assert bucket_index(-3, 0) == 2  # [-4, -2)
    assert bucket_index(2**0.5, 1) == 1
    assert bucket_index(16, -2) == 1  # (1, 16]


def test_snapshots_are_cumulative_with_zero_and_negative_buckets() -> None:
    obs = [(1, 0.0), (2, -3.0), (3, 1.5), (11, 0.0005), (12, 1.5)]
    first, second = native_snapshots(obs, [10, 20], schema=0, zero_threshold=0.001)
    assert (first.count, first.zero_count, first.negative, first.positive) == (3, 1, {2: 1}, {1: 1})
    assert (second.count, second.zero_count, second.positive) == (5, 2, {1: 2})
    assert second.sum == pytest.approx(0.0005)
    assert isinstance(second, WireHistogram)
    assert encode_histogram(second)[:2] == b"\x08\x05"  # count_int = 5
