"""The profile model: one exporter's metric names for each signal of a model page.

A profile file (``MODEL_PROFILES_FILE``) and the built-in profiles
(``app/profiles/builtin.py``) share this shape:

    profiles:
      my-gateway:
        model_label: deployment
        signals:
          latency: {metric: my_llm_latency_seconds, kind: histogram}
          requests_per_second: {metric: my_llm_requests_total, kind: counter}
          success_ratio: {metric: my_llm_requests_total, kind: ratio, success: {status: "ok"}}

Validation names every mistake (an unknown signal, a kind that does not fit the
signal, a bad metric or label name) through pydantic's errors; the loader
(``app/profiles/loader.py``) turns them into one line each.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from app.promql.selectors import is_label_name, is_metric_name

SignalName = Literal[
    "latency",
    "ttft",
    "inter_token_latency",
    "queue",
    "requests_per_second",
    "input_tokens_per_second",
    "output_tokens_per_second",
    "success_ratio",
]
SIGNALS: tuple[SignalName, ...] = get_args(SignalName)
DURATION_SIGNALS = frozenset({"latency", "ttft", "inter_token_latency", "queue"})
RATE_SIGNALS = frozenset(
    {"requests_per_second", "input_tokens_per_second", "output_tokens_per_second"}
)
Kind = Literal["histogram", "summary", "counter", "ratio", "average"]
KINDS_OF: dict[str, frozenset[str]] = {
    **dict.fromkeys(DURATION_SIGNALS, frozenset({"histogram", "summary", "average"})),
    **dict.fromkeys(RATE_SIGNALS, frozenset({"counter", "histogram", "summary"})),
    "success_ratio": frozenset({"ratio"}),
}
Unit = Literal["s", "ms", "us"]
UNIT_SUFFIXES: tuple[tuple[str, Unit], ...] = (
    ("_milliseconds", "ms"),
    ("_ms", "ms"),
    ("_microseconds", "us"),
    ("_us", "us"),
)
MILLISECONDS_PER: dict[Unit, float] = {"s": 1000.0, "ms": 1.0, "us": 0.001}


def _metric_name(value: str) -> str:
    if not is_metric_name(value):
        raise ValueError(
            f"{value!r} is not a Prometheus metric name (letters, digits, '_' and ':')"
        )
    return value


def _label_name(value: str) -> str:
    if not is_label_name(value):
        raise ValueError(
            f"{value!r} is not a Prometheus label name (letters, digits and '_', not 'le')"
        )
    return value


MetricName = Annotated[str, AfterValidator(_metric_name)]
LabelName = Annotated[str, AfterValidator(_label_name)]
LabelValues = str | list[str]
Matchers = dict[LabelName, LabelValues]


def unit_of(metric: str) -> Unit:
    """The unit a metric's name says: ``_ms``/``_milliseconds``, ``_us``/``_microseconds``,
    else seconds (Prometheus's base unit; names without a unit suffix are seconds too)."""
    base = metric.removesuffix("_total")
    for suffix, unit in UNIT_SUFFIXES:
        if base.endswith(suffix):
            return unit
    return "s"


class SignalSpec(BaseModel):
    """Where one signal comes from.

    ``metric``: the histogram or summary base name, the counter, or (``ratio``) the
    counter of finished requests; ``fallback``: the signal's source when ``metric`` is
    not in the engine (an older name, another kind); ``plus``: counters added to a
    counter's rate (successes plus failures); ``matchers``: extra label filters
    (``{gen_ai_token_type: input}``); ``model_label``: this signal's model label when
    it differs from the profile's (how outcome counters join the latency rows).
    ``ratio``: ``success`` selects the successful part of ``metric``, or
    ``failure_metric`` counts the failures; ``counts: success`` when ``metric`` counts
    only successes (the total is then ``metric`` plus ``failure_metric``).
    ``average``: ``<metric>_sum / <metric>_count``, or ``metric / count_metric``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: MetricName
    kind: Kind
    unit: Unit | None = None
    fallback: SignalSpec | None = None
    plus: list[MetricName] = Field(default_factory=list)
    matchers: Matchers = Field(default_factory=dict)
    model_label: LabelName | None = None
    success: Matchers | None = None
    failure_metric: MetricName | None = None
    counts: Literal["all", "success"] = "all"
    count_metric: MetricName | None = None

    @model_validator(mode="after")
    def _fits_kind(self) -> Self:
        if self.kind == "ratio":
            if self.success is None and self.failure_metric is None:
                raise ValueError("a ratio needs `success` (label values) or `failure_metric`")
            if self.counts == "success" and self.failure_metric is None:
                raise ValueError("`counts: success` needs `failure_metric` for the total")
        elif self.success is not None or self.failure_metric is not None:
            raise ValueError("`success` and `failure_metric` belong to kind ratio")
        if self.count_metric is not None and self.kind != "average":
            raise ValueError("`count_metric` belongs to kind average")
        if self.plus and self.kind != "counter":
            raise ValueError("`plus` belongs to kind counter")
        return self

    @property
    def chain(self) -> list[SignalSpec]:
        """This spec and its fallbacks, in order of preference."""
        specs: list[SignalSpec] = []
        spec: SignalSpec | None = self
        while spec is not None:
            specs.append(spec)
            spec = spec.fallback
        return specs

    @property
    def evidence(self) -> tuple[str, ...]:
        """Series names whose presence in the engine means this spec can answer."""
        metric = self.metric
        if self.kind == "histogram":
            return (f"{metric}_bucket", f"{metric}_count", metric)  # classic, or native
        if self.kind == "average" and self.count_metric is None:
            return (f"{metric}_sum",)
        return (metric,)

    @property
    def milliseconds_factor(self) -> float:
        return MILLISECONDS_PER[self.unit or unit_of(self.metric)]


def _kind_in(signal: str) -> AfterValidator:
    allowed = KINDS_OF[signal]

    def check(spec: SignalSpec | None) -> SignalSpec | None:
        for one in spec.chain if spec is not None else ():
            if one.kind not in allowed:
                kinds = ", ".join(sorted(allowed))
                raise ValueError(f"kind {one.kind} does not fit this signal; use one of: {kinds}")
        return spec

    return AfterValidator(check)


DurationSignal = Annotated[SignalSpec | None, _kind_in("latency")]
RateSignal = Annotated[SignalSpec | None, _kind_in("requests_per_second")]
RatioSignal = Annotated[SignalSpec | None, _kind_in("success_ratio")]


class Signals(BaseModel):
    """The signals a profile has; an absent one is ``missing`` in every answer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    latency: DurationSignal = None
    ttft: DurationSignal = None
    inter_token_latency: DurationSignal = None
    queue: DurationSignal = None
    requests_per_second: RateSignal = None
    input_tokens_per_second: RateSignal = None
    output_tokens_per_second: RateSignal = None
    success_ratio: RatioSignal = None

    def get(self, name: SignalName) -> SignalSpec | None:
        spec: SignalSpec | None = getattr(self, name)
        return spec

    def items(self) -> list[tuple[SignalName, SignalSpec]]:
        return [(name, spec) for name in SIGNALS if (spec := self.get(name)) is not None]


class Profile(BaseModel):
    """One exporter: the label naming the model and the signals it has."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model_label: LabelName = "model"
    description: str = ""
    signals: Signals = Field(default_factory=Signals)

    def label_for(self, spec: SignalSpec) -> str:
        return spec.model_label or self.model_label


ProfileName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]


class ProfileSet(BaseModel):
    """A profile file: profiles by name (lower-case letters, digits, ``-`` and ``_``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    profiles: dict[ProfileName, Profile]
