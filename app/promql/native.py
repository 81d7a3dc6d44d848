"""Native histograms in PromQL: the queries for them, and which kind a metric has.

A native histogram is one series whose samples are whole histograms (exponential
buckets, a zero bucket, negative buckets), not one ``<metric>_bucket`` series per
``le``. ``histogram_quantile`` takes it without the ``le`` grouping:

    >>> sel = SeriesSelector("request_duration_seconds", "model", ("gpt-4",))
    >>> native_quantile_query(0.95, sel, 300)  # doctest: +NORMALIZE_WHITESPACE
    'histogram_quantile(0.95, sum by (model)
     (rate(request_duration_seconds{model="gpt-4"}[5m])))'

Several percentiles are one upstream query (``native_quantiles_query``): each
``histogram_quantile`` tagged with its percentile and joined with ``or``, so the numbers
are the engine's own whatever its version (Prometheus changed its native-histogram
quantile rule in 2.46 and in 3.0).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from app.promql.builder import SeriesSelector, bucket_selector, series_selector
from app.promql.durations import format_duration


def native_selector(sel: SeriesSelector) -> str:
    """``metric{matchers}``: the native series carry the bare metric name."""
    return series_selector(sel)


def native_rates(sel: SeriesSelector, window_seconds: float) -> str:
    """Per-model native histogram rates, summed over instances: one histogram per model."""
    window = format_duration(window_seconds)
    return f"sum by ({sel.model_label}) (rate({native_selector(sel)}[{window}]))"


def native_quantile_query(quantile: float, sel: SeriesSelector, window_seconds: float) -> str:
    return f"histogram_quantile({quantile:.12g}, {native_rates(sel, window_seconds)})"


KIND_CLASSIC = "classic"
KIND_NATIVE = "native"


def kind_label(sel: SeriesSelector) -> str:
    """The label ``histogram_kinds_query`` tags with; never the model label itself."""
    return "histogram_kind_" if sel.model_label == "histogram_kind" else "histogram_kind"


def histogram_kinds_query(sel: SeriesSelector, window_seconds: float) -> str:
    """Which models have classic and which native data over the window, in one evaluation.

    Answers one sample per (model, kind) found, tagged ``histogram_kind="classic"`` or
    ``"native"``; read it with ``parse_histogram_kinds``. Both arms use ``rate()``, so
    a kind counts when the quantile query could use it (two samples in the window).
    ``histogram_count`` skips float samples, so a float series named like the metric
    does not pass for a native histogram.
    """
    window = format_duration(window_seconds)
    by, tag = sel.model_label, kind_label(sel)
    classic = f"count by ({by}) (rate({bucket_selector(sel)}[{window}]))"
    native = f"count by ({by}) (histogram_count(rate({native_selector(sel)}[{window}])))"
    return (
        f'label_replace({classic}, "{tag}", "{KIND_CLASSIC}", "", "")'
        f' or label_replace({native}, "{tag}", "{KIND_NATIVE}", "", "")'
    )


def parse_histogram_kinds(
    result: Iterable[Mapping[str, str]], sel: SeriesSelector
) -> dict[str, frozenset[str]]:
    """``{model: {"classic", "native"}}`` from the label sets a ``histogram_kinds_query``
    answers."""
    tag = kind_label(sel)
    kinds: dict[str, set[str]] = {}
    for labels in result:
        model, kind = labels.get(sel.model_label), labels.get(tag)
        if model is not None and kind in (KIND_CLASSIC, KIND_NATIVE):
            kinds.setdefault(model, set()).add(kind)
    return {model: frozenset(found) for model, found in kinds.items()}


def quantile_label(sel: SeriesSelector) -> str:
    """The label ``native_quantiles_query`` tags each percentile with."""
    return "quantile_" if sel.model_label == "quantile" else "quantile"


def native_quantiles_query(
    quantiles: Iterable[float], sel: SeriesSelector, window_seconds: float
) -> str:
    """Every quantile in one query: each tagged ``quantile="<q>"``, joined with ``or``."""
    tag = quantile_label(sel)
    tagged = ((native_quantile_query(q, sel, window_seconds), f"{q:.12g}") for q in quantiles)
    return " or ".join(f'label_replace({query}, "{tag}", "{q}", "", "")' for query, q in tagged)
