"""Pure checks of query-parameter text: each returns the normalised value or raises.

Every check raises ``ParameterProblem`` (a ``ValueError``, so pydantic collects it with
the other bad parameters of the request) whose message says, in words, what is
allowed and gives an example; ``app/schemas/queries.py`` calls these from the
endpoints' query models and ``app/http/handlers.py`` turns the failures into the one
400 shape.

>>> check_percentiles("99.9, 50")
(Percentile(label='99.9', value=99.9), Percentile(label='50', value=50.0))
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Literal, NamedTuple, get_args

from app.promql.durations import MAX_POINTS, parse_duration, parse_timestamp
from app.promql.selectors import is_label_name, is_metric_name

MAX_TIME_RANGE_SECONDS = 30 * 86_400
MAX_COMPARE_SECONDS = 30 * 86_400
MAX_RANGE_SECONDS = 31 * 86_400
MAX_PERCENTILES = 10
MAX_MODELS_PER_PARAMETER = 50
MAX_MODEL_LENGTH = 200
MAX_HOURS = 744.0
MAX_ECHOED = 200
MAX_TIMESTAMP = 32_503_680_000  # year 3000
MAX_TIMESTAMP_LENGTH = 40
MAX_PERCENTILES_LENGTH = 200

_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?|\.[0-9]+", re.ASCII)


class ParameterProblem(ValueError):
    """A parameter's value is not allowed; ``parameter`` names it when the check can't tell."""

    def __init__(self, message: str, *, parameter: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.parameter = parameter


class Percentile(NamedTuple):
    """A percentile as asked (``label``, the seeds' ``p<label>`` key) and as a number."""

    label: str
    value: float


def echoed(value: object) -> object:
    """A bad value as the error body repeats it: strings cut to a safe length."""
    return value[:MAX_ECHOED] if isinstance(value, str) else value


def check_text(value: str) -> str:
    """Text that decoded cleanly: no replacement characters (invalid UTF-8) or controls."""
    if "\ufffd" in value or any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in value):
        raise ParameterProblem("must be valid UTF-8 text without control characters, such as gpt-4")
    return value


METRIC_NAME_RULE = (
    "must be a Prometheus metric name: ASCII letters, digits, '_' and ':', "
    "not starting with a digit, such as request_duration_seconds"
)
LABEL_NAME_RULE = (
    "must be a Prometheus label name: ASCII letters, digits and '_', not starting "
    "with a digit or '__', and not 'le' nor a word PromQL reads as a keyword or a "
    "number (by, without, on, bool, offset, inf, nan and the like), such as model"
)


def check_metric_name(value: str) -> str:
    return _name(value.strip().removesuffix("_bucket"), is_metric_name, METRIC_NAME_RULE)


def check_label_name(value: str) -> str:
    return _name(value.strip(), is_label_name, LABEL_NAME_RULE)


def _name(name: str, valid: Callable[[str], bool], rule: str) -> str:
    if len(name) > MAX_MODEL_LENGTH or not valid(name):
        raise ParameterProblem(rule)
    return name


class AllowList:
    """The names an operator allows for one parameter (``ALLOWED_METRICS``,
    ``ALLOWED_MODEL_LABELS``): exact names or regular expressions, each matching the whole
    name. No entries allows every name.

    >>> AllowList(["model", "tenant_.*"], variable="ALLOWED_MODEL_LABELS").check("tenant_a")
    'tenant_a'
    """

    def __init__(self, entries: Sequence[str], *, variable: str) -> None:
        self.variable = variable
        self._patterns = tuple(re.compile(entry) for entry in entries)
        self._example = next((e for e in entries if re.fullmatch(r"[A-Za-z0-9_:]+", e)), None)

    def check(self, name: str) -> str:
        if self._patterns and not any(p.fullmatch(name) for p in self._patterns):
            example = self._example or "a name listed there"
            raise ParameterProblem(
                f"is not one of the names this server allows ({self.variable}), such as {example}"
            )
        return name


def check_model(value: str) -> str:
    check_text(value)
    if len(value) > MAX_MODEL_LENGTH:
        raise ParameterProblem(
            f"each model name is at most {MAX_MODEL_LENGTH} characters, such as gpt-4"
        )
    return value


def check_model_count(values: list[str]) -> list[str]:
    if len(values) > MAX_MODELS_PER_PARAMETER:
        raise ParameterProblem(
            f"at most {MAX_MODELS_PER_PARAMETER} values, such as model=gpt-4&model=llama-3"
        )
    return values


def check_duration(value: str, *, maximum: float, example: str) -> str:
    """A Prometheus duration from 1s to ``maximum`` seconds, ASCII digits only."""
    text = value.strip()
    limit = f"{maximum / 86_400:g}d"
    message = f"must be a Prometheus duration from 1s to {limit}, such as {example} or 1h30m"
    try:
        seconds = parse_duration(text) if text.isascii() else math.nan
    except ValueError:
        seconds = math.nan
    if not 1 <= seconds <= maximum:
        raise ParameterProblem(message)
    return text


def check_timestamp(value: str) -> float:
    """Unix seconds (ASCII digits, optional fraction) or an RFC 3339 time."""
    text = value.strip()
    message = "must be unix seconds or an RFC 3339 time, such as 1700000000 or 2024-05-01T12:00:00Z"
    if not text.isascii() or "_" in text or len(text) > MAX_TIMESTAMP_LENGTH:
        raise ParameterProblem(message)
    try:
        stamp = float(text) if _DECIMAL.fullmatch(text) else parse_timestamp(text)
    except ValueError:
        raise ParameterProblem(message) from None
    if not 0 <= stamp < MAX_TIMESTAMP:
        raise ParameterProblem(message + ", from 1970 to the year 3000")
    return stamp


def check_hours(value: str) -> float:
    text = value.strip()
    hours = float(text) if _DECIMAL.fullmatch(text) else math.nan
    if not (1 / 3600 <= hours <= MAX_HOURS):
        raise ParameterProblem(
            f"must be a number of hours from one second (0.0003) to {MAX_HOURS:g}, such as 6 or 0.5"
        )
    return hours


HistogramKind = Literal["classic", "native"]
HistogramChoice = Literal["auto", "classic", "native"]
HISTOGRAM_KINDS: tuple[str, ...] = get_args(HistogramChoice)


def check_histogram(value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if text not in HISTOGRAM_KINDS:
        *others, last = HISTOGRAM_KINDS
        raise ParameterProblem(f"must be {', '.join(others)} or {last}, such as native")
    return text


MAX_INTERVAL = 3600.0


def check_interval(value: str) -> float:
    """Seconds between stream updates: a number up to an hour."""
    text = value.strip()
    seconds = float(text) if _DECIMAL.fullmatch(text) else math.nan
    if not 1 <= seconds <= MAX_INTERVAL:
        raise ParameterProblem(
            f"must be a number of seconds from 1 to {MAX_INTERVAL:g}, such as 15"
        )
    return seconds


def check_percentiles(value: str) -> tuple[Percentile, ...]:
    """``50,95,99.9`` as percentiles strictly between 0 and 100, in order, deduplicated."""
    parts = [part.strip() for part in value.split(",")]
    if len(parts) > MAX_PERCENTILES or len(value) > MAX_PERCENTILES_LENGTH:
        raise ParameterProblem(f"at most {MAX_PERCENTILES} percentiles, such as 50,95,99")
    found: dict[float, Percentile] = {}
    for part in parts:
        percentile = parse_percentile(part)
        found.setdefault(percentile.value, percentile)
    return tuple(found.values())


def percentiles_of(labels: str) -> tuple[Percentile, ...]:
    """The percentiles of labels ``check_percentiles`` wrote (``50,95,99.9``): they
    passed its checks, so they are only read here.

    >>> percentiles_of("50,99.9")
    (Percentile(label='50', value=50.0), Percentile(label='99.9', value=99.9))
    """
    return tuple(Percentile(label, float(label)) for label in labels.split(","))


def parse_percentile(text: str) -> Percentile:
    number = float(text) if len(text) <= 20 and _DECIMAL.fullmatch(text) else math.nan
    if not 0 < number < 100:
        raise ParameterProblem(
            "each percentile must be a number strictly between 0 and 100, such as 99.9"
        )
    whole, _, fraction = text.partition(".")
    label = (whole.lstrip("0") or "0") + ("." + fraction if fraction.rstrip("0") else "")
    return Percentile(label.rstrip("0").rstrip(".") if "." in label else label, number)


def check_points(start: float, end: float, step: float) -> None:
    """At most ``MAX_POINTS`` evaluations per series."""
    points = int((end - start) // step) + 1
    if points > MAX_POINTS:
        raise ParameterProblem(
            f"gives {points} points per series, more than the limit of {MAX_POINTS}; "
            "use a larger step such as 5m, or a shorter range",
            parameter="step",
        )


MAX_MILLISECONDS = 86_400_000.0  # a day
_NUMBER = re.compile(r"[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?|\.[0-9]+([eE][+-]?[0-9]+)?", re.ASCII)


def check_milliseconds(value: str) -> float:
    """A latency threshold: a number of milliseconds above 0, at most a day."""
    text = value.strip()
    number = float(text) if len(text) <= 30 and _NUMBER.fullmatch(text) else math.nan
    if not 0 < number <= MAX_MILLISECONDS:
        raise ParameterProblem(
            f"must be a number of milliseconds above 0 and at most {MAX_MILLISECONDS:.0f}, "
            "such as 500"
        )
    return number


def check_objective(value: str) -> float:
    """An objective in percent: above 0, at most 100."""
    text = value.strip()
    number = float(text) if len(text) <= 30 and _NUMBER.fullmatch(text) else math.nan
    if not 0 < number <= 100:
        raise ParameterProblem("must be a percentage above 0 and at most 100, such as 99.9")
    return number
