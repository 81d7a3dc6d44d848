"""The profile model, its units, and the pure query builders the scorecard uses."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.profiles.builtin import BUILTIN_PROFILES
from app.profiles.model import ProfileSet, SignalSpec, unit_of
from app.promql.builder import SeriesSelector
from app.promql.signals import any_of, complement, counter_rate, share, with_matchers


@pytest.mark.parametrize(
    ("metric", "unit", "factor"),
    [
        ("vllm:e2e_request_latency_seconds", "s", 1000.0),
        ("tgi_request_duration", "s", 1000.0),
        ("nv_inference_first_response_histogram_ms", "ms", 1.0),
        ("my_latency_milliseconds", "ms", 1.0),
        ("nv_inference_request_summary_us", "us", 0.001),
        ("nv_inference_request_duration_us", "us", 0.001),
        ("queue_microseconds_total", "us", 0.001),
    ],
)
def test_units_come_from_the_name_and_all_end_in_milliseconds(metric, unit, factor):
    assert unit_of(metric) == unit
    assert SignalSpec(metric=metric, kind="histogram").milliseconds_factor == factor


def test_an_explicit_unit_wins_over_the_name():
    spec = SignalSpec(metric="tgi_request_duration", kind="histogram", unit="ms")
    assert spec.milliseconds_factor == 1.0


def test_every_builtin_profile_validates_and_names_its_model_label():
    assert set(BUILTIN_PROFILES) == {
        "vllm", "sglang", "tgi", "litellm", "triton", "otel-genai", "default"
    }  # fmt: skip
    labels = {name: p.model_label for name, p in BUILTIN_PROFILES.items()}
    assert labels["vllm"] == labels["sglang"] == "model_name"
    assert labels["tgi"] == "job"
    assert labels["litellm"] == "requested_model"
    assert labels["otel-genai"] == "gen_ai_request_model"


def test_a_fallback_of_another_kind_must_still_fit_the_signal():
    with pytest.raises(ValidationError, match="kind counter does not fit this signal"):
        ProfileSet.model_validate(
            {
                "profiles": {
                    "x": {
                        "signals": {
                            "latency": {
                                "metric": "a_seconds",
                                "kind": "histogram",
                                "fallback": {"metric": "b_total", "kind": "counter"},
                            }
                        }
                    }
                }
            }
        )


def test_profile_label_values_are_escaped_into_the_query():
    sel = SeriesSelector("requests_total", "model", ('a"} or vector(1) or x{y="',))
    hostile = with_matchers(sel, {"status": 'ok"} or vector(1)', "code": ["2\\d", "a|b"]})
    text = counter_rate(hostile, 300)
    assert 'status="ok\\"} or vector(1)"' in text
    assert 'code=~"2\\\\\\\\d|a\\\\|b"' in text
    assert 'model="a\\"} or vector(1) or x{y=\\""' in text
    assert text.count("(rate(") == 1


def test_ratio_builders_count_a_model_without_successes_as_zero():
    whole = "sum by (m) (rate(x[5m]))"
    part = 'sum by (m) (rate(x{ok="1"}[5m]))'
    assert share(part, whole) == f"({part} or (0 * {whole})) / {whole}"
    assert complement(part, whole) == f"1 - ({part} or (0 * {whole})) / {whole}"


def test_several_counters_are_one_selector():
    sel = any_of(SeriesSelector("ignored", "model"), ("tgi_request_success", "tgi_request_failure"))
    assert counter_rate(sel, 60) == (
        'sum by (model) (rate({__name__=~"tgi_request_failure|tgi_request_success"}[1m]))'
    )
