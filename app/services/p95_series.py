"""The p95 of every model over time: ``/api/metrics/p95/range/`` and ``/history/``.

One range query through the engine, then the body encoded in a worker thread when
it is large (the encoding is pure).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import orjson

from app.offload import off_loop
from app.promql.builder import milliseconds_factor, quantile_query
from app.promql.durations import format_duration, iso8601
from app.promql.native import native_quantile_query
from app.promql.upstream import Series
from app.schemas.queries import HistoryQuery, LatencyQuery, RangeQuery
from app.schemas.ranges import Span
from app.services.encoding import Encoded, check_values, envelope
from app.services.kinds import Kind
from app.services.latency import Source
from app.services.milliseconds import series_milliseconds

Q = TypeVar("Q", bound=LatencyQuery)


@dataclass(frozen=True, slots=True)
class SeriesAnswer:
    """The p95 of every model over time, sorted by model name, and what came with it."""

    series: list[tuple[str, Series]]
    warnings: list[str]
    partial: bool
    kind: Kind

    @property
    def values(self) -> int:
        return sum(len(s.points) for _, s in self.series)


async def fetch_p95_series(
    source: Source, query: LatencyQuery, start: float, end: float, step: float
) -> SeriesAnswer:
    sel = source.selector(query)
    choice = await source.choose(query, sel, end)
    build = native_quantile_query if choice.kind == "native" else quantile_query
    result = await source.upstream.query_range(
        build(0.95, sel, query.window), start=start, end=end, step=step, lookback=query.window
    )
    named = [(s.labels[sel.model_label], s) for s in result.items if sel.model_label in s.labels]
    return SeriesAnswer(
        sorted(named, key=lambda pair: pair[0]),
        [*choice.warnings, *result.warnings],
        result.partial,
        choice.kind,
    )


def check_size(answer: SeriesAnswer, limit: int) -> int:
    """The number of values in the answer; a 400 naming the limit if there are too many."""
    return check_values(answer.values, limit)


def points_of(
    answer: SeriesAnswer, factor: float, stamp: Callable[[float], object]
) -> list[list[dict[str, object]]]:
    """Each series' points as the answer lists them, in milliseconds."""
    series = [s for _, s in answer.series]
    return [
        [
            {"timestamp": stamp(ts), "p95_latency_ms": value}
            for (ts, _), value in zip(s.points, values, strict=True)
        ]
        for s, values in zip(series, series_milliseconds(series, factor), strict=True)
    ]


def range_body(answer: SeriesAnswer, query: RangeQuery, span: Span) -> bytes:
    """The ``RangeResponse`` document, encoded (pure: may run in a worker thread)."""
    start, end, step = span
    factor = milliseconds_factor(query.metric_name)
    duration, every = format_duration(end - start), format_duration(step)
    data: list[dict[str, object]] = [
        {
            "model": model,
            "data_points": found,
            "metric_name": query.metric_name,
            "duration": duration,
            "step": every,
        }
        for (model, _), found in zip(answer.series, points_of(answer, factor, float), strict=True)
    ]
    return orjson.dumps({**envelope(answer, data), "start": start, "end": end})


def history_body(answer: SeriesAnswer, query: HistoryQuery, span: Span) -> bytes:
    """The ``HistoryResponse`` document, encoded (pure: may run in a worker thread)."""
    start, end, step = span
    factor = milliseconds_factor(query.metric_name)
    data: list[dict[str, object]] = [
        {"model": model, "data_points": found}
        for (model, _), found in zip(answer.series, points_of(answer, factor, iso8601), strict=True)
    ]
    window = {
        "start": iso8601(start),
        "end": iso8601(end),
        "hours": query.hours_number,
        "step": format_duration(step),
    }
    return orjson.dumps({**envelope(answer, data), "time_range": window})


async def p95_range(source: Source, query: RangeQuery) -> Encoded:
    return await encoded_series(source, query, query.span, range_body)


async def p95_history(source: Source, query: HistoryQuery) -> Encoded:
    return await encoded_series(source, query, query.span, history_body)


async def encoded_series(
    source: Source,
    query: Q,
    span: Span,
    body: Callable[[SeriesAnswer, Q, Span], bytes],
) -> Encoded:
    answer = await fetch_p95_series(source, query, *span)
    values = check_size(answer, source.max_values)
    return Encoded(await off_loop(values, body, answer, query, span), answer.partial)
