from __future__ import annotations

import pytest

from app.deps import history_step, resolve_range
from app.errors import InvalidParameter, InvalidParameters
from app.params import (
    Collector,
    check_duration,
    check_metric_name,
    check_models,
    check_percentiles,
    check_points,
)


def test_percentiles_parse_dedupe_and_keep_order():
    assert check_percentiles("95, 50,99.9,95") == (95.0, 50.0, 99.9)


@pytest.mark.parametrize("bad", ["", "0", "100", "-1", "abc", "50,,x", "1," * 11, "nan", "1e400"])
def test_percentiles_rejected(bad):
    with pytest.raises(InvalidParameter) as info:
        check_percentiles(bad)
    assert info.value.parameter == "percentiles"


def test_metric_name_accepts_bucket_suffix_and_rejects_promql():
    assert check_metric_name("x_seconds_bucket") == "x_seconds"
    with pytest.raises(InvalidParameter):
        check_metric_name("up or vector(1)")


def test_duration_bounds():
    assert check_duration("30s", "step", maximum=60) == 30
    with pytest.raises(InvalidParameter, match="at least 1s"):
        check_duration("500ms", "step", maximum=60)
    with pytest.raises(InvalidParameter, match="at most"):
        check_duration("2m", "step", maximum=60)


def test_models_bounded_in_count_and_length():
    assert check_models(["b", "a", "b"]) == ("a", "b")
    with pytest.raises(InvalidParameter):
        check_models([str(i) for i in range(101)])
    with pytest.raises(InvalidParameter):
        check_models(["x" * 201])


def test_points_limit_and_order():
    check_points(0, 11_000 * 60 - 60, 60)  # exactly 11,000 points
    with pytest.raises(InvalidParameter, match="raise the step"):
        check_points(0, 11_000 * 60, 60)
    with pytest.raises(InvalidParameter, match="before end"):
        check_points(10, 10, 1)


def test_collector_reports_every_failure_at_once():
    checks = Collector()
    checks.check(lambda: check_metric_name("1x"), "")
    checks.check(lambda: check_percentiles("0"), ())
    with pytest.raises(InvalidParameters) as info:
        checks.raise_if_any()
    assert [e["parameter"] for e in info.value.details["errors"]] == ["metric_name", "percentiles"]


def test_resolve_range_fills_missing_ends():
    assert resolve_range(100, None, 50, 10) == (100, 150)
    assert resolve_range(None, 1000, 50, 10) == (950, 1000)
    start, end = resolve_range(None, None, 3600, 60)
    assert end % 60 == 0
    assert end - start == 3600


@pytest.mark.parametrize(("hours", "step"), [(1, 30), (6, 300), (24, 900)])
def test_history_step_gives_a_chart_sized_series(hours, step):
    chosen = history_step(hours * 3600)
    assert chosen == step
    assert 60 <= hours * 3600 / chosen <= 240
