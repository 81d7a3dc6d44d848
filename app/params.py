"""Validation of raw query-parameter text into typed values.

Each ``check_*`` function is pure: it returns the value or raises
``InvalidParameter`` naming the parameter. ``Collector`` gathers several
failures so that one 400 names every bad parameter at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from app.errors import InvalidParameter, InvalidParameters
from app.promql.durations import parse_duration, parse_timestamp
from app.promql.selectors import is_label_name, is_metric_name

T = TypeVar("T")

MAX_TIME_RANGE_SECONDS = 30 * 86_400
MAX_RANGE_SECONDS = 31 * 86_400
MAX_POINTS = 11_000
MAX_PERCENTILES = 10
MAX_MODELS = 100  # `model` and its alias `model_name`, at most 50 each
MAX_MODEL_LENGTH = 200


class Collector:
    """Runs checks, keeps every failure, and raises them together."""

    def __init__(self) -> None:
        self.errors: list[InvalidParameter] = []

    def check(self, check: Callable[[], T], fallback: T) -> T:
        try:
            return check()
        except InvalidParameter as error:
            self.errors.append(error)
            return fallback

    def raise_if_any(self) -> None:
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            raise InvalidParameters(self.errors)


def check_metric_name(value: str, parameter: str = "metric_name") -> str:
    name = value.removesuffix("_bucket")
    if not is_metric_name(name):
        raise InvalidParameter(
            "not a valid Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)",
            parameter=parameter,
            value=value[:200],
        )
    return name


def check_label_name(value: str, parameter: str = "model_label") -> str:
    if not is_label_name(value):
        raise InvalidParameter(
            "not a valid Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*, not 'le')",
            parameter=parameter,
            value=value[:200],
        )
    return value


def check_duration(value: str, parameter: str, *, maximum: float) -> float:
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise InvalidParameter(str(exc), parameter=parameter, value=value[:200]) from None
    if seconds < 1:
        raise InvalidParameter("must be at least 1s", parameter=parameter, value=value)
    if seconds > maximum:
        limit = f"{maximum / 86_400:g}d"
        raise InvalidParameter(f"must be at most {limit}", parameter=parameter, value=value)
    return seconds


def check_timestamp(value: str, parameter: str) -> float:
    try:
        return parse_timestamp(value)
    except ValueError as exc:
        raise InvalidParameter(
            f"expected unix seconds or an RFC 3339 time ({exc})",
            parameter=parameter,
            value=value[:200],
        ) from None


def check_models(values: list[str], parameter: str = "model") -> tuple[str, ...]:
    if len(values) > MAX_MODELS:
        raise InvalidParameter(f"at most {MAX_MODELS} models per request", parameter=parameter)
    for value in values:
        if len(value) > MAX_MODEL_LENGTH:
            raise InvalidParameter(
                f"a model name is at most {MAX_MODEL_LENGTH} characters", parameter=parameter
            )
    return tuple(sorted(set(values)))


def check_percentiles(value: str, parameter: str = "percentiles") -> tuple[float, ...]:
    """Parse ``50,95,99.9`` into percentiles strictly between 0 and 100, deduplicated."""
    parts = [part.strip() for part in value.split(",") if part.strip()]
    if not parts:
        raise InvalidParameter("give at least one percentile", parameter=parameter)
    if len(parts) > MAX_PERCENTILES:
        raise InvalidParameter(f"at most {MAX_PERCENTILES} percentiles", parameter=parameter)
    result: list[float] = []
    for part in parts:
        number = _percentile(part, parameter)
        if number not in result:
            result.append(number)
    return tuple(result)


def _percentile(text: str, parameter: str) -> float:
    try:
        number = float(text)
    except ValueError:
        number = float("nan")
    if not 0 < number < 100 or len(text) > 12:
        raise InvalidParameter(
            "each percentile is a number strictly between 0 and 100",
            parameter=parameter,
            value=text[:50],
        )
    return number


def check_points(start: float, end: float, step: float) -> None:
    if start >= end:
        raise InvalidParameter("start must be before end", parameter="start", value=start)
    points = int((end - start) // step) + 1
    if points > MAX_POINTS:
        raise InvalidParameter(
            f"{points} points per series exceed the limit of {MAX_POINTS}; raise the step",
            parameter="step",
        )
