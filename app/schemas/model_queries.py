"""The query parameters of the model scorecard endpoints (``/api/models/``), checked once.

They follow ``app/schemas/queries.py``: the validators call the pure checks in
``app/params.py``, the HTTP cache layer keys answers with these models (only the
parameters below, normalised), and every bad parameter is reported at once in the one
400 shape. Which profiles exist is the server's configuration, so an unknown
``profile`` is found by the service, in the same shape.
"""

from __future__ import annotations

import time as clock
from typing import Annotated, ClassVar
from urllib.parse import urlencode

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app import params
from app.params import Percentile
from app.profiles import checks
from app.profiles.model import DURATION_SIGNALS, SIGNALS
from app.promql.durations import parse_duration
from app.schemas.cache_keys import canonical
from app.schemas.fields import (
    Compare,
    Histogram,
    Models,
    PrometheusUrl,
    RangeDuration,
    RangeStep,
    TimeRange,
    Timestamp,
    percentile_labels,
)
from app.schemas.queries import StreamQuery
from app.schemas.ranges import Span, Spanned, check_span, resolve_range

RATE_AND_RATIO = tuple(name for name in SIGNALS if name not in DURATION_SIGNALS)
DURATIONS = tuple(name for name in SIGNALS if name in DURATION_SIGNALS)


def _signals(value: str) -> str:
    return checks.check_series_signals(value, RATE_AND_RATIO, DURATIONS)


class ModelsBase(BaseModel):
    """What both scorecard endpoints take: which models, which profile, which engine."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    cacheable: ClassVar[bool] = True

    window: Annotated[
        TimeRange,
        Field(description="Rate window of every signal, a Prometheus duration from 1s to 30d."),
    ] = "5m"
    model: Models = []
    profile: Annotated[
        str | None,
        AfterValidator(lambda v: None if v is None else checks.check_profile(v)),
        Field(
            description="Only this profile (`vllm`, `sglang`, `tgi`, `litellm`, `triton`, "
            "`otel-genai`, `default`, or one of MODEL_PROFILES_FILE); default: "
            "MODEL_PROFILE (`auto`: every profile whose metrics the engine has).",
            examples=["vllm"],
            json_schema_extra={"maxLength": 63},
        ),
    ] = None
    prometheus_url: PrometheusUrl = None
    histogram: Annotated[
        Histogram,
        Field(
            description="Which histograms to read: `auto` (the kind each metric has; native "
            "when it has both), `classic` (`<metric>_bucket`) or `native`.",
        ),
    ] = "auto"

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.model)))

    @property
    def window_seconds(self) -> float:
        return parse_duration(self.window)


class ModelsQuery(ModelsBase):
    percentiles: Annotated[
        str,
        AfterValidator(percentile_labels),
        Field(
            description="Comma-separated percentiles of the latency signals, each strictly "
            "between 0 and 100, at most 10.",
            examples=["50,95,99"],
            json_schema_extra={"maxLength": 200},
        ),
    ] = "50,95,99"
    time: Annotated[
        Timestamp,
        Field(
            description="Evaluation time, unix seconds or RFC 3339; default now.",
            examples=["1700000000"],
            json_schema_extra={"maxLength": 40},
        ),
    ] = None

    compare: Compare = None

    @property
    def wanted(self) -> tuple[Percentile, ...]:
        return params.percentiles_of(self.percentiles)

    @property
    def compare_seconds(self) -> float:
        return 0.0 if self.compare is None else parse_duration(self.compare)

    def at(self) -> float:
        return float(self.time) if self.time is not None else round(clock.time(), 3)


class ModelsRangeQuery(ModelsBase, Spanned):
    signals: Annotated[
        str,
        AfterValidator(_signals),
        Field(
            description="Comma-separated series: `latency`, `ttft`, `inter_token_latency` or "
            "`queue` with `_p<percentile>` (milliseconds) or `_mean`; "
            "`requests_per_second`, `input_tokens_per_second`, `output_tokens_per_second` "
            "(per second) and `success_ratio` (0..1).",
            examples=["latency_p95,ttft_p95,output_tokens_per_second"],
            json_schema_extra={"maxLength": 400},
        ),
    ] = "latency_p95,ttft_p95,output_tokens_per_second"
    duration: RangeDuration = "1h"
    step: RangeStep = "1m"
    end: Annotated[
        Timestamp,
        Field(
            description="End, unix seconds or RFC 3339; default now (aligned to the step).",
            json_schema_extra={"maxLength": 40},
        ),
    ] = None

    @property
    def series(self) -> tuple[str, ...]:
        return tuple(self.signals.split(","))

    def _resolve(self, now: float) -> Span:
        step = parse_duration(self.step)
        end = None if self.end is None else float(self.end)
        first, last = resolve_range(None, end, parse_duration(self.duration), step, now)
        check_span(first, last, step, start_given=False)
        return first, last, step


class ModelsStreamQuery(ModelsQuery):
    """The live scorecard: the parameters of ``/api/models/`` and how often to send them."""

    cacheable: ClassVar[bool] = False
    interval: Annotated[
        str | None,
        *StreamQuery.model_fields["interval"].metadata,  # checked as on /api/metrics/stream/
        Field(
            description="Seconds between updates, from CACHE_TTL_SECONDS (the default) to 3600.",
            examples=["15"],
            json_schema_extra={"type": "number", "maximum": params.MAX_INTERVAL},
        ),
    ] = None

    def asked(self) -> bytes:
        """The ``/api/models/`` question every update answers, as its query string."""
        question = ModelsQuery.model_validate(self.model_dump(exclude={"interval"}))
        return urlencode(canonical(question)).encode()
