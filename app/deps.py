"""FastAPI dependencies: query parameters in, validated service parameters out.

Every ``Annotated`` alias lives here so routers stay a few lines each.
"""

from __future__ import annotations

import time as clock
from typing import Annotated

from fastapi import Depends, Query, Request
from pydantic import StringConstraints

from app.errors import InvalidParameter
from app.params import (
    MAX_RANGE_SECONDS,
    MAX_TIME_RANGE_SECONDS,
    Collector,
    check_duration,
    check_label_name,
    check_metric_name,
    check_models,
    check_percentiles,
    check_points,
    check_timestamp,
)
from app.promql.builder import SeriesSelector
from app.promql.client import PrometheusClient
from app.services.latency import HistoryParams, InstantParams, RangeParams
from app.settings import Settings, normalize_url
from app.state import AppState

DURATION_PATTERN = r"^(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?$"
METRIC_PATTERN = r"^[a-zA-Z_:][a-zA-Z0-9_:]*$"
LABEL_PATTERN = r"^[a-zA-Z_][a-zA-Z0-9_]*$"
PERCENTILES_PATTERN = r"^ *[0-9]+(\.[0-9]+)? *(, *[0-9]+(\.[0-9]+)? *)*$"

HISTORY_STEPS = (15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
HISTORY_TARGET_POINTS = 120


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_state(request: Request) -> AppState:
    return AppState.of(request)


SettingsDep = Annotated[Settings, Depends(get_settings)]
StateDep = Annotated[AppState, Depends(get_state)]

MetricNameQ = Annotated[
    str,
    Query(
        max_length=210,
        pattern=METRIC_PATTERN,
        description="Histogram metric; the service reads `<metric_name>_bucket`. "
        "Names ending in `_milliseconds` or `_ms` are taken as milliseconds, others as seconds.",
    ),
]
TimeRangeQ = Annotated[
    str,
    Query(
        max_length=32,
        min_length=1,
        pattern=DURATION_PATTERN,
        description="Rate window, a Prometheus duration from 1s to 30d (e.g. `5m`, `1h30m`).",
    ),
]
ModelLabelQ = Annotated[
    str, Query(max_length=200, pattern=LABEL_PATTERN, description="Label that names the model.")
]
ModelValue = Annotated[str, StringConstraints(max_length=200)]
ModelQ = Annotated[
    list[ModelValue],
    Query(
        max_length=50,
        description="Only these models (repeatable, at most 50, each at most 200 characters).",
    ),
]
ModelNameQ = Annotated[
    list[ModelValue], Query(max_length=50, description="Alias of `model`, as in the collector API.")
]
PrometheusUrlQ = Annotated[
    str | None,
    Query(
        max_length=500,
        description="Which configured Prometheus to ask; only URLs the server allows "
        "(by default only `PROMETHEUS_URL`).",
    ),
]
TimeQ = Annotated[
    str | None,
    Query(max_length=40, description="Evaluation time, unix seconds or RFC 3339; default now."),
]
PercentilesQ = Annotated[
    str,
    Query(
        max_length=200,
        pattern=PERCENTILES_PATTERN,
        description="Comma-separated percentiles, each strictly between 0 and 100, at most 10.",
    ),
]


async def get_prometheus(
    state: StateDep, prometheus_url: PrometheusUrlQ = None
) -> PrometheusClient:
    """The configured Prometheus the request names; 400 for any other URL."""
    if prometheus_url is None:
        return state.default_prometheus
    client = state.prometheus.get(normalize_url(prometheus_url))
    if client is None:
        raise InvalidParameter(
            "not an allowed Prometheus URL for this server",
            parameter="prometheus_url",
        )
    return client


PrometheusDep = Annotated[PrometheusClient, Depends(get_prometheus)]


def _selector(
    checks: Collector,
    settings: Settings,
    metric_name: str,
    model_label: str,
    models: list[str],
) -> SeriesSelector:
    return SeriesSelector(
        metric_name=checks.check(lambda: check_metric_name(metric_name), metric_name),
        model_label=checks.check(lambda: check_label_name(model_label), model_label),
        models=checks.check(lambda: check_models(models), ()),
        fixed_matchers=settings.fixed_matchers,
    )


def _rate_window(checks: Collector, time_range: str) -> float:
    return checks.check(
        lambda: check_duration(time_range, "time_range", maximum=MAX_TIME_RANGE_SECONDS), 300.0
    )


async def instant_params(
    settings: SettingsDep,
    metric_name: MetricNameQ = "request_duration_seconds",
    time_range: TimeRangeQ = "5m",
    model_label: ModelLabelQ = "model",
    model: ModelQ = [],  # noqa: B006 (FastAPI copies defaults per request)
    model_name: ModelNameQ = [],  # noqa: B006
    time: TimeQ = None,
) -> InstantParams:
    checks = Collector()
    selector = _selector(checks, settings, metric_name, model_label, [*model, *model_name])
    window = _rate_window(checks, time_range)
    at = checks.check(lambda: check_timestamp(time, "time"), 0.0) if time else clock.time()
    checks.raise_if_any()
    return InstantParams(selector=selector, window=window, time_range=time_range, at=round(at, 3))


async def range_params(
    settings: SettingsDep,
    metric_name: MetricNameQ = "request_duration_seconds",
    duration: Annotated[
        str,
        Query(
            max_length=32,
            min_length=1,
            pattern=DURATION_PATTERN,
            description="Length of the range, from 1s to 31d.",
        ),
    ] = "1h",
    step: Annotated[
        str,
        Query(
            max_length=32,
            min_length=1,
            pattern=DURATION_PATTERN,
            description="Distance between points; at most 11,000 points.",
        ),
    ] = "1m",
    start: Annotated[
        str | None, Query(max_length=40, description="Start, unix seconds or RFC 3339.")
    ] = None,
    end: Annotated[
        str | None, Query(max_length=40, description="End, unix seconds or RFC 3339; default now.")
    ] = None,
    time_range: TimeRangeQ = "5m",
    model_label: ModelLabelQ = "model",
    model: ModelQ = [],  # noqa: B006
    model_name: ModelNameQ = [],  # noqa: B006
) -> RangeParams:
    checks = Collector()
    selector = _selector(checks, settings, metric_name, model_label, [*model, *model_name])
    length = checks.check(
        lambda: check_duration(duration, "duration", maximum=MAX_RANGE_SECONDS), 3600.0
    )
    every = checks.check(lambda: check_duration(step, "step", maximum=MAX_RANGE_SECONDS), 60.0)
    window = _rate_window(checks, time_range)
    first = checks.check(lambda: check_timestamp(start, "start"), None) if start else None
    last = checks.check(lambda: check_timestamp(end, "end"), None) if end else None
    checks.raise_if_any()
    first, last = resolve_range(first, last, length, every)
    check_points(first, last, every)
    return RangeParams(selector=selector, window=window, start=first, end=last, step=every)


def resolve_range(
    start: float | None, end: float | None, length: float, step: float
) -> tuple[float, float]:
    """Fill in a missing end (now, aligned down to the step) and start (end - duration)."""
    if end is None:
        end = start + length if start is not None else (clock.time() // step) * step
    if start is None:
        start = end - length
    return start, end


def history_step(seconds: float) -> float:
    """A round step that gives a chart about 120 points over ``seconds``."""
    wanted = seconds / HISTORY_TARGET_POINTS
    return float(next((s for s in HISTORY_STEPS if s >= wanted), HISTORY_STEPS[-1]))


async def history_params(
    settings: SettingsDep,
    hours: Annotated[
        float, Query(gt=0, le=744, description="How many hours back, up to 744 (31 days).")
    ] = 1,
    step: Annotated[
        str | None,
        Query(
            max_length=32,
            min_length=1,
            pattern=DURATION_PATTERN,
            description="Distance between points; default gives ~120 points.",
        ),
    ] = None,
    metric_name: MetricNameQ = "request_duration_seconds",
    time_range: TimeRangeQ = "5m",
    model_label: ModelLabelQ = "model",
    model: ModelQ = [],  # noqa: B006
    model_name: ModelNameQ = [],  # noqa: B006
) -> HistoryParams:
    checks = Collector()
    selector = _selector(checks, settings, metric_name, model_label, [*model, *model_name])
    length = hours * 3600
    every = (
        checks.check(lambda: check_duration(step, "step", maximum=MAX_RANGE_SECONDS), 60.0)
        if step
        else history_step(length)
    )
    window = _rate_window(checks, time_range)
    checks.raise_if_any()
    start, end = resolve_range(None, None, length, every)
    check_points(start, end, every)
    return HistoryParams(
        RangeParams(selector=selector, window=window, start=start, end=end, step=every), hours
    )


async def percentile_list(
    percentiles: PercentilesQ = "50,95,99",
) -> tuple[float, ...]:
    return check_percentiles(percentiles)


InstantDep = Annotated[InstantParams, Depends(instant_params)]
RangeDep = Annotated[RangeParams, Depends(range_params)]
HistoryDep = Annotated[HistoryParams, Depends(history_params)]
PercentilesDep = Annotated[tuple[float, ...], Depends(percentile_list)]
