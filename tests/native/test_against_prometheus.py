"""Native histograms fed by remote write, read back and turned into quantiles.

Prometheus's own ``histogram_quantile`` is the reference; the exact observations
behind each histogram are the independent check.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from app.promql.builder import SeriesSelector
from app.promql.native import (
    histogram_kinds_query,
    native_quantile_query,
    native_rates,
    parse_histogram_kinds,
)
from app.promql.selectors import parse_label_selector
from harness.remote_write import NativePrometheus
from tests.native import data
from tests.native.expected import expected_native_quantile
from tests.support.native_quantile import (
    QuantileRule,
    group_histograms,
    native_quantile,
)

pytestmark = pytest.mark.prometheus

QUANTILES = (0.0, 0.01, 0.1, 0.15, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0)
GATEWAY = parse_label_selector('job="llm-gateway"')
ALL_NATIVE = SeriesSelector(data.NATIVE, "model", fixed_matchers=GATEWAY)


def _by_model(result: list[dict[str, Any]]) -> dict[str, float]:
    return {s["metric"]["model"]: float(s["value"][1]) for s in result}


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def test_remote_write_stores_every_observation(native_prometheus: NativePrometheus) -> None:
    query = f'histogram_count({data.NATIVE}{{model="llama-3"}})'
    (sample,) = native_prometheus.query(query, at=data.EVAL)
    last = max(t for t in data.SCRAPES if t <= data.EVAL)
    (spec,) = data.specs(data.NATIVE, "llama-3")
    assert float(sample["value"][1]) == sum(1 for t, _ in spec.observations if t <= last)


def test_rates_come_back_as_one_json_histogram_per_model(
    native_prometheus: NativePrometheus,
) -> None:
    result = native_prometheus.query(native_rates(ALL_NATIVE, data.WINDOW), at=data.EVAL)
    histograms = group_histograms(result, "model")
    assert set(histograms) == {"gpt-4", "llama-3", "negative", data.WEIRD, "quiet"}
    assert histograms["quiet"].count == 0
    assert histograms["quiet"].buckets == ()
    llama = histograms["llama-3"].buckets
    assert any(b.upper < 0 for b in llama)  # negative buckets
    assert any(b.lower == -0.001 and b.upper == 0.001 for b in llama)  # zero bucket
    assert [b.lower for b in llama] == sorted(b.lower for b in llama)


@pytest.mark.parametrize("q", QUANTILES)
def test_python_quantile_equals_prometheus_histogram_quantile(
    native_prometheus: NativePrometheus, q: float
) -> None:
    rates = native_prometheus.query(native_rates(ALL_NATIVE, data.WINDOW), at=data.EVAL)
    histograms = group_histograms(rates, "model")
    query = native_quantile_query(q, ALL_NATIVE, data.WINDOW)
    reference = _by_model(native_prometheus.query(query, at=data.EVAL))
    assert set(reference) == set(histograms)
    for model, h in histograms.items():
        ours = native_quantile(q, h, QuantileRule.for_version("2.42.0"))
        assert _same(ours, reference[model]), (model, ours, reference[model])


@pytest.mark.parametrize("model", ["gpt-4", "llama-3", "negative"])
def test_prometheus_answer_equals_quantile_of_the_exact_observations(
    native_prometheus: NativePrometheus, model: str
) -> None:
    specs = data.specs(data.NATIVE, model)
    values = [v for spec in specs for v in spec.window_values()]
    sel = SeriesSelector(data.NATIVE, "model", (model,), GATEWAY)
    for q in QUANTILES:
        (sample,) = native_prometheus.query(
            native_quantile_query(q, sel, data.WINDOW), at=data.EVAL
        )
        expected = expected_native_quantile(q, values, specs[0].schema, specs[0].zero_threshold)
        assert float(sample["value"][1]) == pytest.approx(expected, rel=1e-9, abs=1e-12), q


def test_stopped_traffic_gives_nan_and_a_stopped_series_gives_nothing(
    native_prometheus: NativePrometheus,
) -> None:
    query = native_quantile_query(0.95, ALL_NATIVE, data.WINDOW)
    answers = _by_model(native_prometheus.query(query, at=data.EVAL))
    assert math.isnan(answers["quiet"])
    assert "gone" not in answers
    assert not math.isnan(answers["gpt-4"])


def test_model_filter_escapes_awkward_names(native_prometheus: NativePrometheus) -> None:
    sel = SeriesSelector(data.NATIVE, "model", (data.WEIRD, "gpt-4"), GATEWAY)
    result = native_prometheus.query(native_rates(sel, data.WINDOW), at=data.EVAL)
    assert set(group_histograms(result, "model")) == {data.WEIRD, "gpt-4"}


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        (data.NATIVE, {m: {"native"} for m in ("gpt-4", "llama-3", "negative", data.WEIRD)}),
        (data.CLASSIC, {"gpt-4": {"classic"}}),
        (
            data.MIXED,
            {"both": {"classic", "native"}, "native-only": {"native"}, "classic-only": {"classic"}},
        ),
    ],
)
def test_kinds_query_tells_classic_native_and_both(
    native_prometheus: NativePrometheus, metric: str, expected: dict[str, set[str]]
) -> None:
    sel = SeriesSelector(metric, "model", fixed_matchers=GATEWAY)
    result = native_prometheus.query(histogram_kinds_query(sel, data.WINDOW), at=data.EVAL)
    kinds = parse_histogram_kinds([r["metric"] for r in result], sel)
    if metric == data.NATIVE:
        expected = {**expected, "quiet": {"native"}}  # no traffic, but native data
    assert kinds == expected


def test_kinds_query_answers_nothing_for_an_unknown_metric(
    native_prometheus: NativePrometheus,
) -> None:
    sel = SeriesSelector("no_such_metric_seconds", "model")
    result = native_prometheus.query(histogram_kinds_query(sel, data.WINDOW), at=data.EVAL)
    assert parse_histogram_kinds([r["metric"] for r in result], sel) == {}
