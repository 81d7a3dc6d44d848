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
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, ClassVar, Self, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    model_validator,
)

from app import params
from app.params import ParameterProblem, Percentile
from app.promql.durations import parse_duration
from app.settings import normalize_url

T = TypeVar("T")
Span = tuple[float, float, float]

DEFAULT_METRIC = "request_duration_seconds"
DEFAULT_MODEL_LABEL = "model"
DEFAULT_TIME_RANGE = "5m"


def _checked(check: Callable[[str], object]) -> AfterValidator:
    """Run ``check`` for its verdict, keep the text (stripped) as the normalised value."""

    def validate(value: str) -> str:
        check(value)
        return value.strip()

    return AfterValidator(validate)


def _timestamp(value: str) -> str:
    return f"{params.check_timestamp(value):.3f}"


def percentile_labels(value: str) -> str:
    return ",".join(p.label for p in params.check_percentiles(value))


def _prometheus_url(value: str) -> str:
    url = normalize_url(value)
    if len(url) > 500 or not url.startswith(("http://", "https://")):
        raise ParameterProblem(
            "must be one of the Prometheus URLs this server allows, such as http://localhost:9090"
        )
    return url


def _duration(maximum: float, example: str) -> AfterValidator:
    return AfterValidator(
        lambda value: params.check_duration(value, maximum=maximum, example=example)
    )


def _text(description: str, example: str, max_length: int = 32) -> Any:
    return Field(
        description=description, examples=[example], json_schema_extra={"maxLength": max_length}
    )


MetricName = Annotated[
    str,
    AfterValidator(params.check_metric_name),
    _text(
        "Histogram metric; the service reads `<metric_name>_bucket`. Names ending in "
        "`_milliseconds` or `_ms` are taken as milliseconds, others as seconds.",
        DEFAULT_METRIC,
        210,
    ),
]
TimeRange = Annotated[
    str,
    _duration(params.MAX_TIME_RANGE_SECONDS, "5m"),
    _text("Rate window, a Prometheus duration from 1s to 30d.", "5m"),
]
ModelLabel = Annotated[
    str,
    AfterValidator(params.check_label_name),
    _text("Label that names the model.", DEFAULT_MODEL_LABEL, 200),
]
ModelValue = Annotated[str, AfterValidator(params.check_model)]
Models = Annotated[
    list[ModelValue],
    AfterValidator(params.check_model_count),
    Field(
        description="Only these models (repeatable, at most 50, each at most 200 characters).",
        examples=[["gpt-4"]],
        json_schema_extra={"maxItems": params.MAX_MODELS_PER_PARAMETER},
    ),
]
PrometheusUrl = Annotated[
    str | None,
    AfterValidator(lambda value: None if value is None else _prometheus_url(value)),
    Field(
        description="Which configured Prometheus to ask; only URLs the server allows "
        "(by default only `PROMETHEUS_URL`).",
        json_schema_extra={"maxLength": 500},
    ),
]
Timestamp = Annotated[str | None, AfterValidator(lambda v: None if v is None else _timestamp(v))]
Histogram = Annotated[
    params.HistogramChoice,
    BeforeValidator(params.check_histogram),
    Field(
        description="Which histograms to read: `auto` (the kind the metric has; native "
        "when it has both), `classic` (`<metric>_bucket`) or `native`.",
    ),
]
Percentiles = Annotated[
    str,
    AfterValidator(percentile_labels),
    Field(
        description="Comma-separated percentiles, each strictly between 0 and 100, at most 10.",
        examples=["50,95,99.9"],
        json_schema_extra={"maxLength": params.MAX_PERCENTILES_LENGTH},
    ),
]


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

    compare: Annotated[
        str | None,
        AfterValidator(lambda v: None if v is None else _compare(v)),
        Field(
            description="Also answer at `time` minus this Prometheus duration (at most 30d): "
            "each row gains `previous` and `change_pct`.",
            examples=["1d"],
            json_schema_extra={"maxLength": 32},
        ),
    ] = None

    @property
    def compare_seconds(self) -> float:
        return 0.0 if self.compare is None else parse_duration(self.compare)


def _compare(value: str) -> str:
    return params.check_duration(value, maximum=params.MAX_COMPARE_SECONDS, example="1d")


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
        AfterValidator(lambda v: None if v is None else _interval(v)),
        Field(
            description="Seconds between updates, from CACHE_TTL_SECONDS (the default) to 3600.",
            examples=["15"],
            json_schema_extra={"type": "number", "maximum": params.MAX_INTERVAL},
        ),
    ] = None

    def percentiles_query(self) -> PercentilesQuery:
        """The ``/percentiles/`` question every update answers."""
        return PercentilesQuery.model_validate(self.model_dump(exclude={"interval"}))


def _interval(value: str) -> str:
    return f"{params.check_interval(value):g}"


class RangeQuery(LatencyQuery):
    duration: Annotated[
        str,
        _duration(params.MAX_RANGE_SECONDS, "1h"),
        _text("Length of the range, from 1s to 31d.", "1h"),
    ] = "1h"
    step: Annotated[
        str,
        _duration(params.MAX_RANGE_SECONDS, "1m"),
        _text("Distance between points; at most 11,000 points.", "1m"),
    ] = "1m"
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

    _span: Span = PrivateAttr()

    @model_validator(mode="after")
    def _fits(self) -> Self:
        self._span = self._resolve(clock.time())
        return self

    @property
    def span(self) -> Span:
        """Start, end and step in seconds; a missing end was now, aligned down to the step."""
        return self._span

    def _resolve(self, now: float) -> Span:
        step = parse_duration(self.step)
        length = parse_duration(self.duration)
        start = None if self.start is None else float(self.start)
        end = None if self.end is None else float(self.end)
        first, last = resolve_range(start, end, length, step, now)
        check_span(first, last, step, start_given=start is not None)
        return first, last, step


class HistoryQuery(LatencyQuery):
    hours: Annotated[
        str,
        _checked(params.check_hours),
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
        _text("Distance between points; default gives ~120 points.", "1m"),
    ] = None

    _span: Span = PrivateAttr()

    @model_validator(mode="after")
    def _fits(self) -> Self:
        self._span = self._resolve(clock.time())
        return self

    @property
    def hours_number(self) -> float:
        return float(self.hours)  # the text check_hours passed

    @property
    def span(self) -> Span:
        """Start, end and step in seconds, over the hours before now."""
        return self._span

    def _resolve(self, now: float) -> Span:
        length = self.hours_number * 3600
        step = parse_duration(self.step) if self.step else history_step(length)
        first, last = resolve_range(None, None, length, step, now)
        check_span(first, last, step, start_given=False)
        return first, last, step


HISTORY_STEPS = (15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
HISTORY_TARGET_POINTS = 120


def history_step(seconds: float) -> float:
    """A round step that gives a chart about 120 points over ``seconds``."""
    wanted = seconds / HISTORY_TARGET_POINTS
    return float(next((s for s in HISTORY_STEPS if s >= wanted), HISTORY_STEPS[-1]))


def resolve_range(
    start: float | None, end: float | None, length: float, step: float, now: float
) -> tuple[float, float]:
    """Fill in a missing end (now, aligned down to the step) and start (end - duration)."""
    if end is None:
        end = start + length if start is not None else (now // step) * step
    if start is None:
        start = end - length
    return start, end


def check_span(start: float, end: float, step: float, *, start_given: bool) -> None:
    if start < 0:
        raise ParameterProblem(
            "end minus duration is before 1970; give a later end or a shorter duration",
            parameter="start" if start_given else "end",
        )
    if start >= end:
        raise ParameterProblem("start must be before end", parameter="start")
    params.check_points(start, end, step)


def query_input(model: type[BaseModel], pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """The input FastAPI would give ``model`` for these query pairs (the last value wins,
    list fields take every value); parameters the model does not know are left out."""
    fields = model.model_fields
    found: dict[str, Any] = {}
    for name, value in pairs:
        field = fields.get(name)
        if field is None:
            continue
        if _is_list(field.annotation):
            found.setdefault(name, []).append(value)
        else:
            found[name] = value
    return found


def _is_list(annotation: object) -> bool:
    return getattr(annotation, "__origin__", None) is list


def canonical(query: BaseModel) -> tuple[tuple[str, str], ...]:
    """The normalised parameters of ``query`` that differ from their defaults, sorted."""
    dumped: Mapping[str, Any] = query.model_dump(exclude_defaults=True)
    pairs: list[tuple[str, str]] = []
    for name, value in sorted(dumped.items()):
        values = sorted(value) if isinstance(value, list) else [value]
        pairs.extend((name, str(item)) for item in values)
    return tuple(pairs)


def _number(check: Callable[[str], float]) -> AfterValidator:
    """Run ``check``; keep the number as short text (``0.50`` and ``5e-1`` are one key)."""
    return AfterValidator(lambda value: f"{check(value):.15g}")


class SLOQuery(InstantQuery):
    """``/api/metrics/slo/``: the share of requests under ``threshold_ms``, and Apdex."""

    time_range: TimeRange = "1h"
    threshold_ms: Annotated[
        str,
        _number(params.check_milliseconds),
        Field(
            description="Latency objective in milliseconds, above 0: the share of requests "
            "at or below it is reported.",
            examples=["500"],
            json_schema_extra={"type": "number", "exclusiveMinimum": 0, "maxLength": 30},
        ),
    ]
    objective: Annotated[
        str,
        _number(params.check_objective),
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
