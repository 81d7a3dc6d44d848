"""Pure PromQL builders for the model scorecard: rates, ratios, averages, summaries.

Each answers one sample per model (grouped by the signal's model label), so a whole
signal is one evaluation however many models there are. Quantiles of histograms use
the builders in ``builder.py`` and ``native.py``.

>>> sel = SeriesSelector("vllm:prompt_tokens_total", "model_name")
>>> counter_rate(sel, 300)
'sum by (model_name) (rate(vllm:prompt_tokens_total{}[5m]))'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from app.promql.builder import SeriesSelector, series_selector
from app.promql.durations import format_duration
from app.promql.selectors import model_matcher

LabelValues = str | Sequence[str]


def with_matchers(sel: SeriesSelector, matchers: Mapping[str, LabelValues]) -> SeriesSelector:
    """``sel`` with ``label="value"`` (or ``label=~"a|b"``) added, every value escaped."""
    extra = []
    for label in sorted(matchers):
        values = matchers[label]
        found = model_matcher(label, [values] if isinstance(values, str) else values)
        if found is not None:
            extra.append(found)
    return replace(sel, fixed_matchers=(*sel.fixed_matchers, *extra))


def any_of(sel: SeriesSelector, names: Iterable[str]) -> SeriesSelector:
    """Series of any of ``names``: ``{__name__=~"a|b",...}`` (one selector, summed alike)."""
    matcher = model_matcher("__name__", names)
    assert matcher is not None
    return replace(sel, metric_name="", fixed_matchers=(matcher, *sel.fixed_matchers))


def counter_rate(sel: SeriesSelector, window_seconds: float, suffix: str = "") -> str:
    """Per-second increase per model, summed over instances and other labels."""
    window = format_duration(window_seconds)
    return f"sum by ({sel.model_label}) (rate({series_selector(sel, suffix)}[{window}]))"


def native_rate(function: str, sel: SeriesSelector, window_seconds: float) -> str:
    """``histogram_count`` or ``histogram_sum`` of a native histogram's rate, per model."""
    window = format_duration(window_seconds)
    inner = f"{function}(rate({series_selector(sel)}[{window}]))"
    return f"sum by ({sel.model_label}) ({inner})"


def share(part: str, whole: str) -> str:
    """``part / whole`` per model; a model with no ``part`` series counts 0, not absent."""
    return f"({part} or (0 * {whole})) / {whole}"


def complement(part: str, whole: str) -> str:
    """``1 - part / whole`` per model (the share of ``whole`` that ``part`` is not)."""
    return f"1 - {share(part, whole)}"


def average(sums: str, counts: str) -> str:
    """Mean per model from two rates; 0 / 0 (no requests) is NaN, so no answer."""
    return f"{sums} / {counts}"


def summary_series(sel: SeriesSelector) -> str:
    """Every quantile series of a summary, unaggregated: summaries cannot be summed, so
    the service reads each and reports when a model has more than one."""
    return series_selector(sel)
