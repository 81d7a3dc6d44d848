"""Latency answers built from Prometheus histogram quantiles.

Routers call exactly one function here per endpoint; each takes validated
parameters and returns the response schema.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypedDict

from app.promql.builder import (
    SeriesSelector,
    bucket_rates,
    milliseconds_factor,
    quantile_query,
)
from app.promql.client import PrometheusClient, Series
from app.promql.durations import format_duration, iso8601
from app.promql.quantile import bucket_quantile, group_buckets
from app.schemas.metrics import (
    HistoryPoint,
    HistoryResponse,
    HistorySeriesItem,
    HistoryWindow,
    P95Item,
    P95Response,
    PercentileItem,
    PercentilesResponse,
    RangePoint,
    RangeResponse,
    RangeSeriesItem,
    SummaryItem,
    SummaryResponse,
)
from app.services import range_cache

SUMMARY_PERCENTILES = (50.0, 95.0, 99.0)


@dataclass(frozen=True, slots=True)
class InstantParams:
    selector: SeriesSelector
    window: float
    time_range: str
    at: float


@dataclass(frozen=True, slots=True)
class RangeParams:
    selector: SeriesSelector
    window: float
    start: float
    end: float
    step: float


@dataclass(frozen=True, slots=True)
class HistoryParams:
    range: RangeParams
    hours: float


@dataclass(frozen=True, slots=True)
class Quantiles:
    """Per model, per percentile, milliseconds; plus Prometheus's warnings."""

    by_model: dict[str, dict[float, float | None]]
    warnings: list[str]


def percentile_key(percentile: float) -> str:
    """``p50``, ``p95``, ``p99.9``: the seeds' keys for a percentile."""
    return f"p{percentile:.10g}"


def to_milliseconds(value: float | None, factor: float) -> float | None:
    """Scaled to milliseconds; NaN and infinities (no answer) become None (JSON null)."""
    if value is None:
        return None
    scaled = round(value * factor, 6)
    return scaled if math.isfinite(scaled) else None


async def fetch_quantiles(
    prom: PrometheusClient, params: InstantParams, percentiles: Iterable[float]
) -> Quantiles:
    """Every percentile of every model from one bucket-rate query.

    Prometheus evaluates ``sum by (model, le) (rate(..._bucket[w]))`` once and the
    quantiles are computed here with its own ``histogram_quantile`` rules
    (app/promql/quantile.py), so three percentiles cost one upstream query, not three.
    """
    wanted = list(percentiles)
    sel = params.selector
    result = await prom.query(bucket_rates(sel, params.window), at=params.at)
    factor = milliseconds_factor(sel.metric_name)
    # The client reports NaN and infinite samples as None; a rate is neither in practice.
    samples = ((s.labels, math.nan if s.value is None else s.value) for s in result.items)
    groups = group_buckets(samples, sel.model_label)
    by_model = {
        model: {p: to_milliseconds(bucket_quantile(p / 100, buckets), factor) for p in wanted}
        for model, buckets in sorted(groups.items())
    }
    return Quantiles(by_model, result.warnings)


class Evaluation(TypedDict):
    """When and from what an instant item was computed (seeds 000 and 001 both carry it)."""

    timestamp: float
    collected_at: str
    metric_name: str
    time_range: str


def evaluation(params: InstantParams) -> Evaluation:
    return Evaluation(
        timestamp=params.at,
        collected_at=iso8601(params.at),
        metric_name=params.selector.metric_name,
        time_range=params.time_range,
    )


async def current_p95(prom: PrometheusClient, params: InstantParams) -> P95Response:
    found = await fetch_quantiles(prom, params, [95.0])
    stamp = evaluation(params)
    data = [
        P95Item(model=model, p95_latency_ms=values[95.0], **stamp)
        for model, values in found.by_model.items()
    ]
    return P95Response(
        data=data, count=len(data), last_updated=stamp["collected_at"], warnings=found.warnings
    )


async def current_percentiles(
    prom: PrometheusClient, params: InstantParams, percentiles: tuple[float, ...]
) -> PercentilesResponse:
    found = await fetch_quantiles(prom, params, percentiles)
    data = [
        PercentileItem(
            model=model,
            percentiles={percentile_key(p): values[p] for p in percentiles},
            timestamp=params.at,
        )
        for model, values in found.by_model.items()
    ]
    return PercentilesResponse(
        data=data,
        count=len(data),
        metric_name=params.selector.metric_name,
        time_range=params.time_range,
        warnings=found.warnings,
    )


async def current_summary(prom: PrometheusClient, params: InstantParams) -> SummaryResponse:
    found = await fetch_quantiles(prom, params, SUMMARY_PERCENTILES)
    stamp = evaluation(params)
    data = [
        SummaryItem(
            model=model,
            p50_latency_ms=values[50.0],
            p95_latency_ms=values[95.0],
            p99_latency_ms=values[99.0],
            **stamp,
        )
        for model, values in found.by_model.items()
    ]
    return SummaryResponse(
        data=data, count=len(data), last_updated=stamp["collected_at"], warnings=found.warnings
    )


async def fetch_p95_series(
    prom: PrometheusClient, params: RangeParams
) -> tuple[list[tuple[str, Series]], list[str]]:
    """The p95 of every model over time, sorted by model name."""
    sel = params.selector
    result = await range_cache.for_client(prom).query_range(
        prom,
        quantile_query(0.95, sel, params.window),
        start=params.start,
        end=params.end,
        step=params.step,
        window=params.window,
    )
    named = [(s.labels[sel.model_label], s) for s in result.items if sel.model_label in s.labels]
    return sorted(named, key=lambda pair: pair[0]), result.warnings


async def p95_range(prom: PrometheusClient, params: RangeParams) -> RangeResponse:
    series, warnings = await fetch_p95_series(prom, params)
    factor = milliseconds_factor(params.selector.metric_name)
    data = [
        RangeSeriesItem(
            model=model,
            data_points=[
                RangePoint(timestamp=ts, p95_latency_ms=to_milliseconds(v, factor))
                for ts, v in s.points
            ],
            metric_name=params.selector.metric_name,
            duration=format_duration(params.end - params.start),
            step=format_duration(params.step),
        )
        for model, s in series
    ]
    return RangeResponse(
        data=data, count=len(data), start=params.start, end=params.end, warnings=warnings
    )


async def p95_history(prom: PrometheusClient, history: HistoryParams) -> HistoryResponse:
    params = history.range
    series, warnings = await fetch_p95_series(prom, params)
    factor = milliseconds_factor(params.selector.metric_name)
    data = [
        HistorySeriesItem(
            model=model,
            data_points=[
                HistoryPoint(timestamp=iso8601(ts), p95_latency_ms=to_milliseconds(v, factor))
                for ts, v in s.points
            ],
        )
        for model, s in series
    ]
    window = HistoryWindow(
        start=iso8601(params.start),
        end=iso8601(params.end),
        hours=history.hours,
        step=format_duration(params.step),
    )
    return HistoryResponse(data=data, count=len(data), time_range=window, warnings=warnings)
