"""The query parameters of each latency endpoint, parsed and checked once.

Each endpoint takes one of these models (``Annotated[InstantQuery, Query()]``), so the
OpenAPI page shows every parameter with its default, bounds and examples, and the
HTTP cache layer builds its key from the same model: only parameters an endpoint
knows, with their normalised values. The validators call the pure checks in
``app/params.py``; every failure of a request is reported at once, in the one 400
shape (``app/http/handlers.py``).
"""

from __future__ import annotations

import time as clock
from typing import Annotated, ClassVar, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
)

from app import params
from app.params import Percentile
from app.promql.durations import parse_duration
from app.schemas.fields import (
    DEFAULT_METRIC,
    DEFAULT_MODEL_LABEL,
    DEFAULT_TIME_RANGE,
    Compare,
    Histogram,
    MetricName,
    ModelLabel,
    Models,
    ModelValue,
    Percentiles,
    PrometheusUrl,
    RangeDuration,
    RangeStep,
    TimeRange,
    Timestamp,
    checked,
    described,
    interval_seconds,
    number,
)
from app.schemas.ranges import Span, Spanned, check_span, history_step, resolve_range

T = TypeVar("T")


class LatencyQuery(BaseModel):
    """What every latency endpoint takes: which histogram, which window, which models."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    cacheable: ClassVar[bool] = True  # the HTTP cache layer keys answers with this model

    metric_name: MetricName = DEFAULT_METRIC
    time_range: TimeRange = DEFAULT_TIME_RANGE
    model_label: ModelLabel = DEFAULT_MODEL_LABEL
    model: Models = []
    model_name: Annotated[
        list[ModelValue],
        AfterValidator(params.check_model_count),
        Field(
            description="Alias of `model`, as in the collector API.",
            json_schema_extra={"maxItems": params.MAX_MODELS_PER_PARAMETER},
        ),
    ] = []
    prometheus_url: PrometheusUrl = None
    histogram: Histogram = "auto"

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(sorted({*self.model, *self.model_name}))

    @property
    def window(self) -> float:
        return parse_duration(self.time_range)


class AtQuery(LatencyQuery):
    """A question asked at one instant (``time``, default now)."""

    time: Annotated[
        Timestamp,
        Field(
            description="Evaluation time, unix seconds or RFC 3339; default now.",
            examples=["1700000000"],
            json_schema_extra={"maxLength": 40},
        ),
    ] = None

    def at(self) -> float:
        return float(self.time) if self.time is not None else round(clock.time(), 3)


class InstantQuery(AtQuery):
    """An instant question whose rows can be compared with an earlier instant."""

    compare: Compare = None

    @property
    def compare_seconds(self) -> float:
        return 0.0 if self.compare is None else parse_duration(self.compare)


class PercentilesQuery(InstantQuery):
    percentiles: Percentiles = "50,95,99"

    @property
    def wanted(self) -> tuple[Percentile, ...]:
        return params.percentiles_of(self.percentiles)


class StreamQuery(PercentilesQuery):
    """The live stream: the parameters of ``/percentiles/`` and how often to send them."""

    cacheable: ClassVar[bool] = False
    interval: Annotated[
        str | None,
        AfterValidator(lambda v: None if v is None else interval_seconds(v)),
        Field(
            description="Seconds between updates, from CACHE_TTL_SECONDS (the default) to 3600.",
            examples=["15"],
            # (a number, or absent: one schema, not a number that must also be a string)
            json_schema_extra={
                "anyOf": [
                    {"type": "number", "minimum": 1, "maximum": params.MAX_INTERVAL},
                    {"type": "null"},
                ]
            },
        ),
    ] = None

    def percentiles_query(self) -> PercentilesQuery:
        """The ``/percentiles/`` question every update answers."""
        return PercentilesQuery.model_validate(self.model_dump(exclude={"interval"}))


class RangeQuery(LatencyQuery, Spanned):
    duration: RangeDuration = "1h"
    step: RangeStep = "1m"
    start: Annotated[
        Timestamp,
        Field(description="Start, unix seconds or RFC 3339.", json_schema_extra={"maxLength": 40}),
    ] = None
    end: Annotated[
        Timestamp,
        Field(
            description="End, unix seconds or RFC 3339; default now.",
            json_schema_extra={"maxLength": 40},
        ),
    ] = None

    def _resolve(self, now: float) -> Span:
        step = parse_duration(self.step)
        length = parse_duration(self.duration)
        start = None if self.start is None else float(self.start)
        end = None if self.end is None else float(self.end)
        first, last = resolve_range(start, end, length, step, now)
        check_span(first, last, step, start_given=start is not None)
        return first, last, step


class HistoryQuery(LatencyQuery, Spanned):
    hours: Annotated[
        str,
        checked(params.check_hours),
        Field(
            description="How many hours back, up to 744 (31 days).",
            examples=["6"],
            json_schema_extra={"type": "number", "exclusiveMinimum": 0, "maximum": 744},
        ),
    ] = "1"
    step: Annotated[
        str | None,
        AfterValidator(
            lambda v: (
                None
                if v is None
                else params.check_duration(v, maximum=params.MAX_RANGE_SECONDS, example="1m")
            )
        ),
        described("Distance between points; default gives ~120 points.", "1m"),
    ] = None

    @property
    def hours_number(self) -> float:
        return float(self.hours)  # the text check_hours passed

    def _resolve(self, now: float) -> Span:
        length = self.hours_number * 3600
        step = parse_duration(self.step) if self.step else history_step(length)
        first, last = resolve_range(None, None, length, step, now)
        check_span(first, last, step, start_given=False)
        return first, last, step


class SLOQuery(InstantQuery):
    """``/api/metrics/slo/``: the share of requests under ``threshold_ms``, and Apdex."""

    time_range: TimeRange = "1h"
    threshold_ms: Annotated[
        str,
        number(params.check_milliseconds),
        Field(
            description="Latency objective in milliseconds, above 0: the share of requests "
            "at or below it is reported.",
            examples=["500"],
            json_schema_extra={"type": "number", "exclusiveMinimum": 0, "maxLength": 30},
        ),
    ]
    objective: Annotated[
        str,
        number(params.check_objective),
        Field(
            description="Target share of requests under the threshold, in percent (0, 100].",
            examples=["99.9"],
            json_schema_extra={"type": "number", "exclusiveMinimum": 0, "maximum": 100},
        ),
    ] = "99"
    apdex_t_ms: Annotated[
        str | None,
        AfterValidator(lambda v: None if v is None else f"{params.check_milliseconds(v):.15g}"),
        Field(
            description="Apdex T in milliseconds: adds `apdex` (satisfied at or below T, "
            "tolerating at or below 4T).",
            examples=["300"],
            json_schema_extra={"type": "number", "exclusiveMinimum": 0, "maxLength": 30},
        ),
    ] = None

    @property
    def threshold(self) -> float:
        return float(self.threshold_ms)

    @property
    def objective_share(self) -> float:
        return float(self.objective) / 100

    @property
    def apdex_t(self) -> float | None:
        return None if self.apdex_t_ms is None else float(self.apdex_t_ms)


class DistributionQuery(AtQuery):
    """``/api/metrics/distribution/``: every bucket of every model at one instant."""


class DistributionRangeQuery(RangeQuery):
    """``/api/metrics/distribution/range/``: every bucket of every model at each step."""
