"""One signal of one profile, evaluated: one upstream query, through the response cache.

``evaluate`` turns a resolved signal (``Plan``) into its values per model: the
percentiles of a histogram (milliseconds), the current quantiles of a summary, a
rate per second, a ratio (0..1) or a mean (milliseconds). Each signal is one
evaluation however many models or percentiles are asked, and goes through the one
response cache with single-flight (``ResponseCache.load``), so concurrent pollers of
``/api/models/`` cost one query per signal per TTL slot, fleet-wide with a shared store.
An answer the engine marked partial is served but not kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Protocol, TypeVar

import orjson

from app.cache.core import Rendered, ResponseCache
from app.params import Percentile
from app.profiles.model import DURATION_SIGNALS, SignalName, SignalSpec
from app.promql.builder import SeriesSelector
from app.promql.screen import Checked, contradiction
from app.promql.signals import (
    any_of,
    average,
    complement,
    counter_rate,
    native_rate,
    share,
    summary_series,
    with_matchers,
)
from app.promql.upstream import Reduction, Sample, Upstream, around
from app.services.kinds import HistogramKinds, Wanted
from app.services.latency import quantile_plan
from app.services.milliseconds import to_milliseconds
from app.services.summaries import summary_values

Value = float | None | dict[str, float | None]
ByModel = dict[str, Value]
Reduce = Reduction[tuple[ByModel, list[str]]]
JSON_HEADERS = ((b"content-type", b"application/json"),)
S = TypeVar("S")
L = TypeVar("L", bound="Labelled")


class Labelled(Protocol):
    """A sample that says whether it lacks a label (``Sample``, ``KeptSample``)."""

    def lacks(self, label: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class Plan:
    """A signal of a profile, resolved: the metric name the engine has, the model label."""

    source: str
    signal: SignalName
    spec: SignalSpec  # the one of the signal's chain (it, or a fallback) the engine has
    model_label: str

    @property
    def metric(self) -> str:
        return self.spec.metric


@dataclass(frozen=True, slots=True)
class Ask:
    """What every signal of one request shares: where, when, which models, which window."""

    upstream: Upstream
    cache: ResponseCache
    kinds: HistogramKinds
    fixed_matchers: tuple[str, ...]
    models: tuple[str, ...]
    window: float
    at: float
    pinned_time: float | None
    percentiles: tuple[Percentile, ...]
    histogram: Wanted


@dataclass(frozen=True, slots=True)
class Built:
    """A signal's query and reducer; ``variant`` sets reducers of one query apart (in the
    cache key), ``notes`` go into every answer whatever the engine says."""

    promql: str
    reduce: Reduce
    variant: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SignalAnswer:
    values: ByModel
    warnings: list[str]
    partial: bool = False
    failed: bool = False  # no answer at all: null in every row


def selector(plan: Plan, ask: Ask, metric: str | None = None) -> SeriesSelector:
    base = SeriesSelector(metric or plan.metric, plan.model_label, ask.models, ask.fixed_matchers)
    return with_matchers(base, plan.spec.matchers)


async def evaluate(plan: Plan, ask: Ask) -> SignalAnswer:
    """The signal's values per model; ``UpstreamError`` when the engine cannot answer."""
    built = await build(plan, ask)
    reduce = around(built.reduce, partial(joined, plan=plan))
    key = "|".join(
        (
            "signal",
            ask.upstream.name,
            str(ask.pinned_time),
            plan.model_label,
            built.promql,
            built.variant,
        )
    )

    made: list[SignalAnswer] = []  # what this request rendered itself, if it did

    async def render() -> Rendered:
        result = await ask.upstream.query_reduced(built.promql, at=ask.at, reduce=reduce)
        values, found = result.value
        warnings = [*built.notes, *found, *result.warnings]
        made.append(SignalAnswer(values, warnings, result.partial))
        body = orjson.dumps({"values": values, "warnings": warnings})
        return Rendered(200, JSON_HEADERS, body, partial=result.partial)

    rendered = await ask.cache.fresh_or_load(key, render)
    if made:  # (not read back from the bytes just written)
        return made[0]
    document = orjson.loads(rendered.body)
    return SignalAnswer(document["values"], document["warnings"], rendered.partial)


async def build(plan: Plan, ask: Ask) -> Built:
    """The query of ``plan``'s signal and what turns its samples into values per model."""
    kind = plan.spec.kind
    if plan.signal in DURATION_SIGNALS:
        if kind == "histogram":
            return await quantiles(plan, ask)
        if kind == "summary":
            return summary(plan, ask)
        return mean(plan, ask)
    if kind == "ratio":
        return Built(ratio(plan, ask), scaled(plan, 1.0), "ratio")
    return Built(await rate(plan, ask), scaled(plan, 1.0), "rate")


async def quantiles(plan: Plan, ask: Ask) -> Built:
    sel = selector(plan, ask)
    choice = await ask.kinds.choose(
        ask.upstream, sel, window=ask.window, at=ask.at, wanted=ask.histogram
    )
    factor = plan.spec.milliseconds_factor
    wanted = list(ask.percentiles)
    promql, reduce = quantile_plan(choice.kind, sel, wanted, ask.window, factor)
    labels = ",".join(p.label for p in wanted)
    noted = around(reduce, partial(_noted, upstream=ask.upstream.name))
    return Built(promql, noted, f"quantiles {labels} x{factor}", choice.warnings)


def _noted(
    reduce: Callable[[list[S]], Checked[dict[str, dict[str, float | None]]]],
    samples: list[S],
    *,
    upstream: str,
) -> tuple[ByModel, list[str]]:
    """The quantiles and their notes; a 502 when the answer contradicts itself
    (app/promql/screen.py)."""
    checked = reduce(samples)
    if checked.conflict is not None:
        raise contradiction(upstream, checked.conflict)
    return dict(checked.value), checked.notes


def summary(plan: Plan, ask: Ask) -> Built:
    factor = plan.spec.milliseconds_factor
    reduce = partial(
        summary_values,
        metric=plan.metric,
        model_label=plan.model_label,
        wanted=ask.percentiles,
        factor=factor,
    )
    labels = ",".join(p.label for p in ask.percentiles)
    note = (
        f"{plan.source} {plan.signal}: {plan.metric} is a summary; its quantiles are its "
        "own sliding window's current values, not the rate window's"
    )
    return Built(
        summary_series(selector(plan, ask)), reduce, f"summary {labels} x{factor}", (note,)
    )


def mean(plan: Plan, ask: Ask) -> Built:
    spec = plan.spec
    if spec.count_metric is None:
        sums = counter_rate(selector(plan, ask), ask.window, "_sum")
        counts = counter_rate(selector(plan, ask), ask.window, "_count")
    else:
        sums = counter_rate(selector(plan, ask), ask.window)
        counts = counter_rate(selector(plan, ask, spec.count_metric), ask.window)
    factor = spec.milliseconds_factor
    note = f"{plan.source} {plan.signal}: an average (mean) of the window, not percentiles"
    return Built(average(sums, counts), scaled(plan, factor, "mean"), f"mean x{factor}", (note,))


async def rate(plan: Plan, ask: Ask) -> str:
    """Requests (or tokens) per second: a counter's rate, or a histogram's or summary's
    ``_count`` (requests) or ``_sum`` (tokens of a per-request token histogram)."""
    sel = selector(plan, ask)
    kind = plan.spec.kind
    if kind == "counter":
        plus = plan.spec.plus
        return counter_rate(any_of(sel, (plan.metric, *plus)) if plus else sel, ask.window)
    part = "count" if plan.signal == "requests_per_second" else "sum"
    if kind == "histogram":
        choice = await ask.kinds.choose(
            ask.upstream, sel, window=ask.window, at=ask.at, wanted=ask.histogram
        )
        if choice.kind == "native":
            return native_rate(f"histogram_{part}", sel, ask.window)
    return counter_rate(sel, ask.window, f"_{part}")


def ratio(plan: Plan, ask: Ask) -> str:
    """Successful finished requests over all finished requests in the window."""
    spec = plan.spec
    sel = selector(plan, ask)
    if spec.failure_metric is None:
        assert spec.success is not None
        return share(
            counter_rate(with_matchers(sel, spec.success), ask.window),
            counter_rate(sel, ask.window),
        )
    failures = counter_rate(selector(plan, ask, spec.failure_metric), ask.window)
    if spec.counts == "success":
        whole = counter_rate(any_of(sel, (plan.metric, spec.failure_metric)), ask.window)
        return share(counter_rate(sel, ask.window), whole)
    return complement(failures, counter_rate(sel, ask.window))


def joined(
    reduce: Callable[[list[L]], tuple[ByModel, list[str]]], samples: list[L], *, plan: Plan
) -> tuple[ByModel, list[str]]:
    """``reduce``'s values, and a warning when the series lack the model label: such a
    signal cannot be joined to the rows and is null in them."""
    values, notes = reduce(samples)
    label = plan.model_label
    if samples and not values and all(s.lacks(label) for s in samples):
        unjoined = (
            f"{plan.source} {plan.signal}: {plan.metric} has no {label} label, so it cannot "
            "be joined to the models; null in every row"
        )
        return values, [*notes, unjoined]
    return values, notes


def scaled(plan: Plan, factor: float, key: str | None = None) -> Reduce:
    return partial(_per_model, model_label=plan.model_label, factor=factor, key=key)


def _per_model(
    samples: list[Sample], *, model_label: str, factor: float, key: str | None
) -> tuple[ByModel, list[str]]:
    values: ByModel = {}
    for sample in samples:
        model = sample.labels.get(model_label)
        if model is None:
            continue
        value = to_milliseconds(sample.value, factor) if key else sample.value
        values[model] = {key: value} if key else value
    return dict(sorted(values.items())), []
