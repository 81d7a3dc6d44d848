"""The pure parameter checks: what each accepts, normalises and refuses."""

from __future__ import annotations

import pytest

from app.params import (
    ParameterProblem,
    Percentile,
    check_duration,
    check_hours,
    check_metric_name,
    check_model,
    check_model_count,
    check_percentiles,
    check_points,
    check_timestamp,
)
from app.schemas.ranges import history_step, resolve_range


def test_percentiles_parse_dedupe_keep_order_and_their_label():
    assert check_percentiles("95, 50,99.90,95.0") == (
        Percentile("95", 95.0),
        Percentile("50", 50.0),
        Percentile("99.9", 99.9),
    )


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("99.99999999999", "99.99999999999"),
        ("0.0000001", "0.0000001"),
        ("050", "50"),
        (".5", "0.5"),
    ],
)
def test_percentile_labels_are_the_decimal_as_asked_never_an_exponent(text, label):
    (percentile,) = check_percentiles(text)
    assert percentile.label == label
    assert percentile.value == float(text)


ARABIC_50 = "\u0665\u0660"
FULLWIDTH_50 = "\uff15\uff10"
ARABIC_1700000000 = "\u0661\u0667" + "\u0660" * 8


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "0",
        "100",
        "-1",
        "abc",
        "50,,x",
        "1," * 11,
        "nan",
        "1e400",
        "1e1",
        ARABIC_50,
        FULLWIDTH_50,
    ],
)
def test_percentiles_rejected_in_words_with_an_example(bad):
    with pytest.raises(ParameterProblem, match="such as"):
        check_percentiles(bad)


def test_metric_name_accepts_bucket_suffix_and_rejects_promql():
    assert check_metric_name("x_seconds_bucket") == "x_seconds"
    with pytest.raises(ParameterProblem, match="such as request_duration_seconds"):
        check_metric_name("up or vector(1)")


def test_duration_bounds_and_ascii_digits_only():
    assert check_duration(" 30s ", maximum=60, example="1m") == "30s"
    for bad in ("500ms", "2m", "\u0665m", "\uff11\uff10m", "5 minutes", "0s"):
        with pytest.raises(ParameterProblem, match="from 1s to"):
            check_duration(bad, maximum=60, example="1m")


@pytest.mark.parametrize(
    ("text", "seconds"), [("1700000000", 1.7e9), ("2023-11-14T22:13:20Z", 1.7e9), ("0.5", 0.5)]
)
def test_timestamps_in_unix_seconds_or_rfc3339(text, seconds):
    assert check_timestamp(text) == seconds


@pytest.mark.parametrize("bad", ["1_700_000_000", ARABIC_1700000000, "-1", "1e300", "nan", "soon"])
def test_timestamps_are_ascii_and_in_range(bad):
    with pytest.raises(ParameterProblem, match="unix seconds or an RFC 3339 time"):
        check_timestamp(bad)


@pytest.mark.parametrize("bad", ["0", "1e-300", "nan", "745", "-1", "inf", "0.0001"])
def test_hours_bounds_say_what_is_allowed(bad):
    with pytest.raises(ParameterProblem, match="number of hours from one second"):
        check_hours(bad)


def test_models_bounded_in_count_length_and_text():
    assert check_model_count(["a"] * 50) == ["a"] * 50
    with pytest.raises(ParameterProblem, match="at most 50"):
        check_model_count(["a"] * 51)
    for bad in ("x" * 201, "a\ufffdb", "a\x00b"):
        with pytest.raises(ParameterProblem):
            check_model(bad)


def test_points_limit_names_step_and_a_way_out():
    check_points(0, 11_000 * 60 - 60, 60)  # exactly 11,000 points
    with pytest.raises(ParameterProblem, match="larger step") as info:
        check_points(0, 11_000 * 60, 60)
    assert info.value.parameter == "step"


def test_resolve_range_fills_missing_ends():
    assert resolve_range(100, None, 50, 10, now=0) == (100, 150)
    assert resolve_range(None, 1000, 50, 10, now=0) == (950, 1000)
    start, end = resolve_range(None, None, 3600, 60, now=1_700_000_030)
    assert end % 60 == 0
    assert end <= 1_700_000_030 < end + 60
    assert end - start == 3600


@pytest.mark.parametrize(("hours", "step"), [(1, 30), (6, 300), (24, 900)])
def test_history_step_gives_a_chart_sized_series(hours, step):
    chosen = history_step(hours * 3600)
    assert chosen == step
    assert 60 <= hours * 3600 / chosen <= 240
