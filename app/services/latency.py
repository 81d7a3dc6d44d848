"""Latency answers built from Prometheus histogram quantiles.

Routers call exactly one function here per endpoint; each takes validated
parameters and returns the response schema.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TypedDict, TypeVar

from app.params import Percentile
from app.promql.builder import (
    SeriesSelector,
    bucket_rates,
    milliseconds_factor,
    quantile_query,
)
from app.promql.durations import iso8601
from app.promql.native import native_quantiles_query, quantile_label
from app.promql.screen import Checked, contradiction, grouped
from app.promql.tables import by_key, grouped_quantiles
from app.promql.upstream import KeptSample, Keyed, Keys, Upstream
from app.schemas.queries import (
    InstantQuery,
    LatencyQuery,
    PercentilesQuery,
)
from app.services.compare import Evaluated, attach, beside, with_notes
from app.services.encoding import Encoded, encoded
from app.services.kinds import Choice, HistogramKinds, Kind
from app.services.milliseconds import milliseconds
from app.services.settled import SettledCache

Q = TypeVar("Q", bound=LatencyQuery)
IQ = TypeVar("IQ", bound=InstantQuery)
T = TypeVar("T")

SUMMARY_PERCENTILES = (Percentile("50", 50.0), Percentile("95", 95.0), Percentile("99", 99.0))
P95 = (Percentile("95", 95.0),)


@dataclass(frozen=True, slots=True)
class Source:
    """Where answers come from: an upstream, and the matchers every query carries
    (``LABEL_SELECTOR``)."""

    upstream: Upstream
    fixed_matchers: tuple[str, ...] = ()
    max_values: int = 2_000_000
    kinds: HistogramKinds = field(default_factory=HistogramKinds)  # the lifespan's in requests
    settled: SettledCache | None = None  # earlier evaluations kept (compare=)

    async def choose(self, query: LatencyQuery, sel: SeriesSelector, at: float) -> Choice:
        """Classic or native for this query (``histogram``), and any note about the choice."""
        return await self.kinds.choose(
            self.upstream, sel, window=query.window, at=at, wanted=query.histogram
        )

    def selector(self, query: LatencyQuery) -> SeriesSelector:
        return SeriesSelector(
            query.metric_name, query.model_label, query.models, self.fixed_matchers
        )


@dataclass(frozen=True, slots=True)
class Quantiles:
    """Per model, per percentile label, milliseconds; plus the upstream's warnings."""

    by_model: dict[str, dict[str, float | None]]
    warnings: list[str]
    partial: bool = False
    kind: Kind = "classic"


def percentile_key(percentile: Percentile) -> str:
    """``p50``, ``p95``, ``p99.9``: the seeds' keys for a percentile, as it was asked."""
    return f"p{percentile.label}"


async def fetch_quantiles(
    source: Source, query: LatencyQuery, at: float, percentiles: Iterable[Percentile]
) -> Quantiles:
    """Every percentile of every model from one upstream query.

    Classic histograms: one percentile is the engine's own ``histogram_quantile``, the
    least it can send. Several: the engine evaluates ``sum by (model, le)
    (rate(..._bucket[w]))`` once and the quantiles are computed here with Prometheus's
    own ``histogram_quantile`` rules (app/promql/quantile.py), where the answer is
    parsed (``Upstream.query_reduced``). Native histograms: one query of every
    ``histogram_quantile``, tagged per percentile (app/promql/native.py).
    """
    wanted = list(percentiles)
    sel = source.selector(query)
    choice = await source.choose(query, sel, at)
    factor = milliseconds_factor(sel.metric_name)
    promql, reduce = quantile_plan(choice.kind, sel, wanted, query.window, factor)
    result = await source.upstream.query_reduced(promql, at=at, reduce=reduce)
    checked = trusted(source, result.value)
    warnings = [*choice.warnings, *result.warnings, *checked.notes]
    return Quantiles(checked.value, warnings, result.partial, choice.kind)


def trusted(source: Source, checked: Checked[T]) -> Checked[T]:
    """``checked``, unless the answer contradicts itself (app/promql/screen.py): a 502."""
    if checked.conflict is not None:
        raise contradiction(source.upstream.name, checked.conflict)
    return checked


ByModel = dict[str, dict[str, float | None]]


Reducer = Keyed[Checked[ByModel]]


def quantile_plan(
    kind: Kind, sel: SeriesSelector, wanted: list[Percentile], window: float, factor: float
) -> tuple[str, Reducer]:
    """The query for ``wanted`` percentiles of a ``kind`` histogram, and what turns its
    samples into milliseconds per model: native, the engine's tagged
    ``histogram_quantile``; one classic percentile, its ``histogram_quantile``; several,
    the bucket rates, reduced here."""
    if kind == "native":
        promql = native_quantiles_query([p.value / 100 for p in wanted], sel, window)
        keys = Keys(sel.model_label, quantile_label(sel))
        return promql, Keyed.of(keys, engine_quantiles, wanted=wanted, factor=factor)
    if len(wanted) == 1:
        promql = quantile_query(wanted[0].value / 100, sel, window)
        keys = Keys(sel.model_label)
        return promql, Keyed.of(keys, engine_quantiles, wanted=wanted, factor=factor)
    reduce = Keyed.of(Keys(sel.model_label, "le"), computed_quantiles, wanted=wanted, factor=factor)
    return bucket_rates(sel, window), reduce


def computed_quantiles(
    samples: list[KeptSample], *, keys: Keys, wanted: list[Percentile], factor: float
) -> Checked[ByModel]:
    """Every percentile of every model's bucket rates, in milliseconds, computed here;
    none for a model with a negative bucket rate."""
    groups = grouped(samples, keys, counts=True)
    by, negative = groups.by, groups.negative
    qs = [p.value / 100 for p in wanted]
    labels = [p.label for p in wanted]
    counted = groups.counted
    found = grouped_quantiles(qs, counted)
    models = sorted(by)  # (names alone sort faster than (name, group) pairs)
    values = milliseconds([v for m in models if m not in negative for v in found[m]], factor)
    by_model: ByModel = {}
    at = 0
    for model in models:
        if model in negative:
            by_model[model] = dict.fromkeys(labels)
            continue
        by_model[model] = dict(zip(labels, values[at : at + len(labels)], strict=True))
        at += len(labels)
    return Checked(by_model, groups.notes, groups.conflict)


def engine_quantiles(
    samples: list[KeptSample], *, keys: Keys, wanted: list[Percentile], factor: float
) -> Checked[ByModel]:
    """The engine's own quantiles, per model, in milliseconds; ``keys.key`` is the tag
    that names each sample's quantile (None: every sample is of the one percentile)."""
    groups = grouped(samples, keys, counts=False)
    tagged = keys.key is not None
    label_of = (
        {f"{p.value / 100:.12g}": p.label for p in wanted} if tagged else {"": wanted[0].label}
    )
    names = [p.label for p in wanted]
    found: ByModel = {}
    for text, column in by_key(groups.by).items():
        label = label_of.get(text)
        if label is None:
            continue
        converted = milliseconds(list(column.values()), factor)
        for model, value in zip(column, converted, strict=True):
            values = found.get(model)
            if values is None:
                values = found[model] = dict.fromkeys(names)
            values[label] = value
    return Checked({model: found[model] for model in sorted(found)}, groups.notes, groups.conflict)


class Evaluation(TypedDict):
    """When and from what an instant item was computed (seeds 000 and 001 both carry it)."""

    timestamp: float
    collected_at: str
    metric_name: str
    time_range: str


def evaluation(query: LatencyQuery, at: float) -> Evaluation:
    return Evaluation(
        timestamp=at,
        collected_at=iso8601(at),
        metric_name=query.metric_name,
        time_range=query.time_range,
    )


RowsOf = Callable[[Quantiles, IQ, float], list[dict[str, object]]]


def p95_rows(found: Quantiles, query: InstantQuery, at: float) -> list[dict[str, object]]:
    stamp = evaluation(query, at)
    return [
        {"model": model, "p95_latency_ms": values["95"], **stamp}
        for model, values in found.by_model.items()
    ]


def percentile_rows(
    found: Quantiles, query: PercentilesQuery, at: float
) -> list[dict[str, object]]:
    keys = [(percentile_key(p), p.label) for p in query.wanted]
    return [
        {
            "model": model,
            "percentiles": {key: values[label] for key, label in keys},
            "timestamp": at,
        }
        for model, values in found.by_model.items()
    ]


def summary_rows(found: Quantiles, query: InstantQuery, at: float) -> list[dict[str, object]]:
    stamp = evaluation(query, at)
    return [
        {
            "model": model,
            "p50_latency_ms": values["50"],
            "p95_latency_ms": values["95"],
            "p99_latency_ms": values["99"],
            **stamp,
        }
        for model, values in found.by_model.items()
    ]


async def answered(
    source: Source,
    query: IQ,
    wanted: Iterable[Percentile],
    rows: RowsOf[IQ],
    fields: tuple[str, ...],
) -> tuple[Quantiles, list[dict[str, object]], float]:
    """The rows at the query's instant, with ``previous`` and ``change_pct`` when it
    asks to ``compare`` (app/services/compare.py)."""
    at, wanted = query.at(), list(wanted)

    async def earlier(when: float) -> Evaluated:
        then = await fetch_quantiles(source, query, when, wanted)
        return rows(then, query, when), then.warnings, then.partial

    found, before = await beside(
        fetch_quantiles(source, query, at, wanted), source, query, at, earlier, fields
    )
    data = rows(found, query, at)
    attach(data, before, fields)
    warnings, partial = with_notes(found.warnings, found.partial, before)
    return replace(found, warnings=warnings, partial=partial), data, at


async def current_p95(source: Source, query: InstantQuery) -> Encoded:
    found, data, at = await answered(source, query, P95, p95_rows, P95_FIELDS)
    return await encoded(found, data, {"last_updated": iso8601(at)})


async def current_percentiles(source: Source, query: PercentilesQuery) -> Encoded:
    found, data, _ = await answered(
        source, query, query.wanted, percentile_rows, PERCENTILES_FIELDS
    )
    extra = {"metric_name": query.metric_name, "time_range": query.time_range}
    return await encoded(found, data, extra)


async def current_summary(source: Source, query: InstantQuery) -> Encoded:
    found, data, at = await answered(
        source, query, SUMMARY_PERCENTILES, summary_rows, SUMMARY_FIELDS
    )
    return await encoded(found, data, {"last_updated": iso8601(at)})


P95_FIELDS = ("p95_latency_ms",)
PERCENTILES_FIELDS = ("percentiles",)
SUMMARY_FIELDS = ("p50_latency_ms", "p95_latency_ms", "p99_latency_ms")
