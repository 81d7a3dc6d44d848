"""The query-parameter types every endpoint's query model is built from: each says, for
the OpenAPI page, what it allows, and checks it through the pure checks in
``app/params.py`` (the normalised text is what the model keeps).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

from app import params
from app.credentials import normalize_url
from app.params import ParameterProblem

DEFAULT_METRIC = "request_duration_seconds"
DEFAULT_MODEL_LABEL = "model"
DEFAULT_TIME_RANGE = "5m"


def checked(check: Callable[[str], object]) -> AfterValidator:
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


def checked_duration(maximum: float, example: str) -> AfterValidator:
    return AfterValidator(
        lambda value: params.check_duration(value, maximum=maximum, example=example)
    )


def described(description: str, example: str, max_length: int = 32) -> Any:
    return Field(
        description=description, examples=[example], json_schema_extra={"maxLength": max_length}
    )


RangeDuration = Annotated[
    str,
    checked_duration(params.MAX_RANGE_SECONDS, "1h"),
    described("Length of the range, from 1s to 31d.", "1h"),
]
RangeStep = Annotated[
    str,
    checked_duration(params.MAX_RANGE_SECONDS, "1m"),
    described("Distance between points; at most 11,000 points.", "1m"),
]
MetricName = Annotated[
    str,
    AfterValidator(params.check_metric_name),
    described(
        "Histogram metric; the service reads `<metric_name>_bucket`. Names ending in "
        "`_milliseconds` or `_ms` are taken as milliseconds, others as seconds.",
        DEFAULT_METRIC,
        210,
    ),
]
TimeRange = Annotated[
    str,
    checked_duration(params.MAX_TIME_RANGE_SECONDS, "5m"),
    described("Rate window, a Prometheus duration from 1s to 30d.", "5m"),
]
ModelLabel = Annotated[
    str,
    AfterValidator(params.check_label_name),
    described("Label that names the model.", DEFAULT_MODEL_LABEL, 200),
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


def compare_duration(value: str) -> str:
    return params.check_duration(value, maximum=params.MAX_COMPARE_SECONDS, example="1d")


Compare = Annotated[
    str | None,
    AfterValidator(lambda v: None if v is None else compare_duration(v)),
    Field(
        description="Also answer at `time` minus this Prometheus duration (at most 30d): "
        "each row gains `previous` (its value fields then) and `change_pct`.",
        examples=["1d"],
        json_schema_extra={"maxLength": 32},
    ),
]


def interval_seconds(value: str) -> str:
    return f"{params.check_interval(value):g}"


def number(check: Callable[[str], float]) -> AfterValidator:
    """Run ``check``; keep the number as short text (``0.50`` and ``5e-1`` are one key)."""
    return AfterValidator(lambda value: f"{check(value):.15g}")
