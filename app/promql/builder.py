"""Pure functions that turn validated parameters into PromQL.

>>> sel = SeriesSelector("request_duration_seconds", "model", ("gpt-4",))
>>> quantile_query(0.95, sel, 300)  # doctest: +NORMALIZE_WHITESPACE
'histogram_quantile(0.95, sum by (model, le)
 (rate(request_duration_seconds_bucket{model="gpt-4"}[5m])))'
"""

from __future__ import annotations

from dataclasses import dataclass

from app.promql.durations import format_duration
from app.promql.selectors import model_matcher

_MILLISECOND_SUFFIXES = ("_milliseconds", "_ms")


@dataclass(frozen=True, slots=True)
class SeriesSelector:
    """Which histogram to read: already-validated names and raw model values."""

    metric_name: str
    model_label: str
    models: tuple[str, ...] = ()
    fixed_matchers: tuple[str, ...] = ()


def series_selector(sel: SeriesSelector, suffix: str = "") -> str:
    """``<metric><suffix>{<fixed matchers>,<model matcher>}``, every value escaped."""
    matchers = [*sel.fixed_matchers]
    models = model_matcher(sel.model_label, sel.models)
    if models:
        matchers.append(models)
    return f"{sel.metric_name}{suffix}{{{','.join(matchers)}}}"


def bucket_selector(sel: SeriesSelector) -> str:
    return series_selector(sel, "_bucket")


def bucket_rates(sel: SeriesSelector, window_seconds: float) -> str:
    """Per-model bucket rates, summed over instances so replicas aggregate correctly."""
    window = format_duration(window_seconds)
    return f"sum by ({sel.model_label}, le) (rate({bucket_selector(sel)}[{window}]))"


def quantile_query(quantile: float, sel: SeriesSelector, window_seconds: float) -> str:
    return f"histogram_quantile({quantile:.12g}, {bucket_rates(sel, window_seconds)})"


def milliseconds_factor(metric_name: str) -> float:
    """What turns the metric's unit into milliseconds: 1 for ``*_ms`` metrics, else 1000."""
    return 1.0 if metric_name.endswith(_MILLISECOND_SUFFIXES) else 1000.0
