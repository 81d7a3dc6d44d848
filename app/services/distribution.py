"""Latency distributions per model (``/api/metrics/distribution/`` and its range).

Classic histograms: the bucket rates per (model, ``le``), merged by numeric bound and
made per-bucket (app/promql/layout.py), with one warning when bucket layouts differ
between instances or over the window (answered on the union of bounds). Native
histograms: each model's own buckets, from the ``histogram`` field of the engine's
answer (at one instant, or at each step of a range).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import partial
from typing import TypeVar

from app.errors import UpstreamError
from app.offload import off_loop
from app.promql.builder import SeriesSelector, milliseconds_factor
from app.promql.durations import format_duration
from app.promql.layout import (
    SUSPECT,
    Cell,
    cells,
    layout_query,
    part_label,
    per_bucket,
    sample_counts,
    spelled_unevenly,
    suspects_query,
    uneven,
    uneven_group,
)
from app.promql.native import native_rates
from app.promql.quantile import Bucket, cumulative, parse_le
from app.promql.screen import grouped
from app.promql.tables import tables
from app.promql.upstream import (
    KeptSample,
    Keyed,
    Keys,
    Reduced,
    Reduction,
    Sample,
    Series,
    around,
    is_partial,
)
from app.schemas.queries import DistributionQuery, DistributionRangeQuery
from app.services.buckets import Buckets, InMs, Rows, cell_buckets, table_buckets
from app.services.encoding import Encoded, check_values, encoded
from app.services.kinds import Kind
from app.services.latency import Source

S = TypeVar("S")
MAX_NAMED = 5
MAX_ASKED = 100  # suspects named in the query that counts their samples; more: every model


@dataclass(frozen=True, slots=True)
class Layouts:
    """Each model's buckets (``Buckets``), in model order, the models whose bucket
    layouts were not one, and the models whose bounds' sample counts still have to be
    read to tell (``suspects_query``)."""

    buckets: dict[str, Buckets]
    uneven: list[str]
    suspects: list[str]


def classic_layouts(samples: list[KeptSample], *, keys: Keys, factor: float) -> Layouts:
    """What a ``suspects_query`` answered (its suspects tagged with ``keys.tag``), as
    buckets per model: the models of a shared layout as tables (``tables``), the rest one
    at a time. The samples are read by then and ``samples`` is emptied: the answer's
    records go before the rows are built (the reducer owns them,
    ``Upstream.query_reduced``)."""
    parts = grouped(samples, keys, counts=False, parts=(None, SUSPECT)).parts
    rates, suspects = parts[None], parts[SUSPECT]
    samples.clear()
    ms = InMs(factor)
    found: dict[str, Buckets] = {}
    shared, rest = tables(rates)
    for table in shared:  # (each bound spelled once: never spelled unevenly)
        found.update(table_buckets(table, ms))
    spelled = []
    for model in rest:
        found[model] = cell_buckets(cells(*cumulative(rates[model])), ms)
        if model not in suspects and spelled_unevenly(rates[model]):
            spelled.append(model)
    return Layouts(
        {model: found[model] for model in sorted(found)}, sorted(spelled), sorted(suspects)
    )


def uneven_models(samples: list[KeptSample], *, keys: Keys) -> list[str]:
    """The models of a ``sample_counts`` answer whose bounds had different sample counts
    once spellings of one bound are added up."""
    counted = grouped(samples, keys, counts=False).by
    return [model for model in sorted(counted) if uneven_group(counted[model])]


async def checked_suspects(
    source: Source, sel: SeriesSelector, window: float, at: float, suspects: list[str]
) -> Reduced[list[str]]:
    """Which ``suspects`` are uneven: their bounds' sample counts, asked of the engine
    (for a few, only theirs; for many, every model's). When that query fails the rows
    still stand: the answer is partial, with a note."""
    asked = replace(sel, models=tuple(suspects)) if len(suspects) <= MAX_ASKED else sel
    reduce = Keyed.of(Keys(sel.model_label, "le"), uneven_models)
    try:
        return await source.upstream.query_reduced(
            sample_counts(asked, window), at=at, reduce=reduce
        )
    except UpstreamError as exc:
        note = f"bucket layouts of {len(suspects)} model(s) were not checked ({exc.message})"
        return Reduced([], [note])


def native_layouts(samples: list[Sample], *, model_label: str, factor: float) -> Layouts:
    """Each model's own native buckets (the ``histogram`` field of its summed rate)."""
    ms = InMs(factor)
    found: dict[str, Buckets] = {}
    for s in samples:
        model, histogram = s.labels.get(model_label), s.histogram
        if model is not None and histogram is not None:
            own = [Cell(low, high, count) for _, low, high, count in histogram.buckets]
            found[model] = cell_buckets(own, ms)
    return Layouts({model: found[model] for model in sorted(found)}, [], [])


def layout_warning(models: list[str]) -> list[str]:
    if not models:
        return []
    named = ", ".join(models[:MAX_NAMED]) + (", ..." if len(models) > MAX_NAMED else "")
    return [
        f"bucket layouts differ between instances or over time for {len(models)} model(s) "
        f"({named}); answered on the union of their bounds"
    ]


async def current_distribution(source: Source, query: DistributionQuery) -> Encoded:
    at = query.at()
    sel = source.selector(query)
    choice = await source.choose(query, sel, at)
    factor = milliseconds_factor(sel.metric_name)
    reduce: Reduction[Layouts]
    if choice.kind == "native":
        promql = native_rates(sel, query.window)
        reduce = partial(native_layouts, model_label=sel.model_label, factor=factor)
    else:
        promql = suspects_query(sel, query.window)
        keys = Keys(sel.model_label, "le", part_label(sel))
        reduce = Keyed.of(keys, classic_layouts, factor=factor)
    # The rows are built where the answer is reduced (a worker thread for a large one).
    rows = around(reduce, partial(instant_rows, at=at))
    result = await source.upstream.query_reduced(promql, at=at, reduce=rows)
    data, uneven_models, suspects = result.value
    notes = result.warnings
    if suspects:  # (rare: a bound some instances lack, or one that came or went)
        checked = await checked_suspects(source, sel, query.window, at, suspects)
        uneven_models = sorted({*uneven_models, *checked.value})
        notes = [*notes, *checked.warnings]
    warnings = [*choice.warnings, *notes, *layout_warning(uneven_models)]
    extra = {"metric_name": query.metric_name, "time_range": query.time_range}
    return await encoded(Answer(warnings, is_partial(notes), choice.kind), data, extra)


def instant_rows(
    reduce: Callable[[list[S]], Layouts], samples: list[S], *, at: float
) -> tuple[Rows, list[str], list[str]]:
    """The rows of an instant answer, the models whose layouts were not one, and the
    suspects still to be checked."""
    layouts = reduce(samples)
    data: Rows = [
        {"model": model, "per_second": total, "buckets": buckets, "timestamp": at}
        for model, (total, buckets) in layouts.buckets.items()
    ]
    return data, layouts.uneven, layouts.suspects


@dataclass(frozen=True, slots=True)
class Answer:
    """What the envelope reports of a distribution answer."""

    warnings: list[str]
    partial: bool
    kind: Kind


def steps_of(series: Iterable[Series], model_label: str) -> dict[str, dict[float, list[Bucket]]]:
    """Range series of bucket rates as ``{model: {timestamp: [(bound, rate), ...]}}``."""
    found: dict[str, dict[float, list[Bucket]]] = {}
    for s in series:
        model, bound = s.labels.get(model_label), parse_le(s.labels.get("le", ""))
        if model is None or bound is None:
            continue
        steps = found.setdefault(model, {})
        for ts, value in s.points:
            steps.setdefault(ts, []).append((bound, value))
    return found


def changed(steps: dict[float, list[Bucket]], counted: dict[float, list[Bucket]]) -> bool:
    """Whether a model's bounds differ between steps, or between instances or over the
    window at some step (its bounds' sample counts differ)."""
    layouts = {frozenset(bound for bound, _ in pairs) for pairs in steps.values()}
    return len(layouts) > 1 or any(uneven(pairs) for pairs in counted.values())


def range_rows(
    series: list[Series], tag: str, model_label: str, factor: float
) -> tuple[Rows, list[str]]:
    """Per model, per step, the buckets of a ``layout_query`` range (pure: may run in a
    worker thread), and the models whose layouts were not one."""
    found = steps_of((s for s in series if s.labels.get(tag) == "rate"), model_label)
    counted = steps_of((s for s in series if s.labels.get(tag) == "samples"), model_label)
    ms = InMs(factor)
    data: Rows = []
    differing = []
    for model in sorted(found):
        steps = found[model]
        if changed(steps, counted.get(model, {})):
            differing.append(model)
        points = []
        for ts in sorted(steps):
            total, buckets = cell_buckets(per_bucket(steps[ts]), ms)
            points.append({"timestamp": ts, "per_second": total, "buckets": buckets})
        data.append({"model": model, "points": points})
    return data, differing


def native_values(series: list[Series]) -> int:
    """How many buckets a native range answer lists."""
    return sum(len(h.buckets) for s in series for _, h in s.histograms)


def native_range_rows(series: list[Series], model_label: str, factor: float) -> Rows:
    """Per model, per step, its own native buckets (pure: may run in a worker thread)."""
    ms = InMs(factor)
    data: Rows = []
    named = [(s.labels[model_label], s) for s in series if s.histograms and model_label in s.labels]
    for model, s in sorted(named, key=lambda pair: pair[0]):
        points = []
        for ts, histogram in s.histograms:
            cells = [Cell(low, high, count) for _, low, high, count in histogram.buckets]
            total, buckets = cell_buckets(cells, ms)
            points.append({"timestamp": ts, "per_second": total, "buckets": buckets})
        data.append({"model": model, "points": points})
    return data


async def distribution_range(source: Source, query: DistributionRangeQuery) -> Encoded:
    start, end, step = query.span
    sel = source.selector(query)
    choice = await source.choose(query, sel, end)
    native = choice.kind == "native"
    promql = native_rates(sel, query.window) if native else layout_query(sel, query.window)
    result = await source.upstream.query_range(
        promql, start=start, end=end, step=step, lookback=query.window
    )
    factor = milliseconds_factor(sel.metric_name)
    if native:
        values = check_values(native_values(result.items), source.max_values)
        data = await off_loop(values, native_range_rows, result.items, sel.model_label, factor)
        differing: list[str] = []
    else:
        values = check_values(sum(len(s.points) for s in result.items) // 2, source.max_values)
        data, differing = await off_loop(
            values, range_rows, result.items, part_label(sel), sel.model_label, factor
        )
    warnings = [*choice.warnings, *result.warnings, *layout_warning(differing)]
    extra: dict[str, object] = {
        "metric_name": query.metric_name,
        "time_range": query.time_range,
        "start": start,
        "end": end,
        "step": format_duration(step),
    }
    return await encoded(Answer(warnings, result.partial, choice.kind), data, extra)
