"""SLO attainment and Apdex per model (``/api/metrics/slo/``).

Every number of one request comes from one upstream evaluation, whatever the
thresholds: classic histograms are read as bucket rates (``sum by (model, le)
(rate(x_bucket[w]))``) and the shares computed here with Prometheus's
``histogram_fraction`` rule (app/promql/fraction.py); native histograms are the
engine's own ``histogram_fraction``, every threshold tagged in one query.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import partial

import numpy as np

from app.promql.builder import SeriesSelector, bucket_rates, milliseconds_factor
from app.promql.fraction import (
    bound_at,
    fraction_below,
    native_fractions_query,
    part_label,
    table_fractions,
    usable,
)
from app.promql.quantile import cumulative
from app.promql.screen import Checked, grouped
from app.promql.tables import Array, Table, tables
from app.promql.upstream import KeptSample, Keyed, Keys, Reduction, Sample
from app.schemas.queries import SLOQuery
from app.services.compare import Evaluated, Rows, attach, beside, with_notes
from app.services.encoding import Encoded, encoded
from app.services.kinds import Kind
from app.services.latency import Source, trusted


@dataclass(frozen=True, slots=True)
class Attainment:
    """One model's shares (0..1, None when idle), requests in the window, exactness."""

    share: float | None
    requests: float | None
    exact: bool | None
    apdex: float | None = None


IDLE = Attainment(None, None, None, None)
ByModel = dict[str, Attainment]


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The thresholds of a request in the metric's unit; ``apdex_t`` when Apdex is asked."""

    threshold: float
    apdex_t: float | None
    window: float

    @staticmethod
    def of(query: SLOQuery) -> Thresholds:
        factor = milliseconds_factor(query.metric_name)
        apdex_t = query.apdex_t
        return Thresholds(
            query.threshold / factor, None if apdex_t is None else apdex_t / factor, query.window
        )


def share_at(threshold: float, bounds: list[float], counts: list[float]) -> tuple[float, bool]:
    """The share at or below ``threshold``, and whether a bucket bound made it exact."""
    bound = bound_at(threshold, bounds)
    return fraction_below(threshold if bound is None else bound, bounds, counts), bound is not None


def attainment(bounds: list[float], counts: list[float], limits: Thresholds) -> Attainment:
    """One model's attainment from its sorted, merged buckets (``cumulative``)."""
    if not usable(bounds, counts):
        return IDLE
    share, exact = share_at(limits.threshold, bounds, counts)
    apdex = None
    if limits.apdex_t is not None:
        satisfied, _ = share_at(limits.apdex_t, bounds, counts)
        tolerable, _ = share_at(4 * limits.apdex_t, bounds, counts)
        apdex = finite(satisfied + (tolerable - satisfied) / 2)
    return Attainment(finite(share), counts[-1] * limits.window, exact, apdex)


def table_attainments(table: Table, limits: Thresholds) -> Iterator[tuple[str, Attainment]]:
    """``attainment`` of each row of a table, by name: each share computed for every row
    at once (``table_fractions``), the same floats."""
    totals = table.counts[:, -1]
    if table.bounds[-1] != math.inf:  # (no +Inf bucket: ``usable`` holds for no row)
        yield from ((name, IDLE) for name in table.names)
        return
    with np.errstate(divide="ignore", invalid="ignore"):  # (a total of 0 is idle below)
        share, exact = _table_shares(limits.threshold, table)
        apdex: list[float | None] = [None] * len(table.names)
        if limits.apdex_t is not None:
            satisfied, _ = _table_shares(limits.apdex_t, table)
            tolerable, _ = _table_shares(4 * limits.apdex_t, table)
            apdex = (satisfied + (tolerable - satisfied) / 2).tolist()
    rows = zip(table.names, totals.tolist(), share.tolist(), apdex, strict=True)
    for name, total, fraction, index in rows:
        if total == 0:
            yield name, IDLE
            continue
        yield name, Attainment(finite(fraction), total * limits.window, exact, finite(index))


def _table_shares(threshold: float, table: Table) -> tuple[Array, bool]:
    """``share_at`` of every row of ``table``."""
    bound = bound_at(threshold, table.bounds)
    at = threshold if bound is None else bound
    return table_fractions(at, table.bounds, table.counts), bound is not None


def finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def classic_attainments(
    samples: list[KeptSample], *, keys: Keys, limits: Thresholds
) -> Checked[ByModel]:
    """Each model's attainment from its bucket rates; none for a model with a negative
    bucket rate (app/promql/screen.py). The models of a shared layout as tables."""
    groups = grouped(samples, keys, counts=True)
    by, negative = groups.by, groups.negative
    counted = groups.counted
    found = dict.fromkeys(negative, IDLE)
    shared, rest = tables(counted)
    for table in shared:
        found.update(table_attainments(table, limits))
    for model in rest:
        found[model] = attainment(*cumulative(counted[model]), limits)
    return Checked({model: found[model] for model in sorted(by)}, groups.notes, groups.conflict)


def native_parts(limits: Thresholds) -> dict[str, float]:
    """The thresholds the native query asks ``histogram_fraction`` of, by name."""
    parts = {"share": limits.threshold}
    if limits.apdex_t is not None:
        parts |= {"satisfied": limits.apdex_t, "tolerable": 4 * limits.apdex_t}
    return parts


def native_attainments(
    samples: list[Sample], *, sel: SeriesSelector, tag: str, limits: Thresholds
) -> Checked[ByModel]:
    parts: dict[str, dict[str, float | None]] = {}
    bounds: dict[str, list[float]] = {}
    for s in samples:
        model, name = s.labels.get(sel.model_label), s.labels.get(tag)
        histogram = s.histogram
        if model is not None and histogram is not None:
            bounds[model] = [edge for _, low, high, _ in histogram.buckets for edge in (low, high)]
        elif model is not None and name is not None:
            parts.setdefault(model, {})[name] = s.value
    return Checked(
        {
            model: native_attainment(parts[model], bounds.get(model, []), limits)
            for model in sorted(parts)
        }
    )


def native_attainment(
    parts: dict[str, float | None], bounds: list[float], limits: Thresholds
) -> Attainment:
    rate, share = parts.get("rate"), parts.get("share")
    if not rate or share is None:
        return IDLE
    satisfied, tolerable = parts.get("satisfied"), parts.get("tolerable")
    apdex = None
    if satisfied is not None and tolerable is not None:
        apdex = satisfied + (tolerable - satisfied) / 2
    exact = bound_at(limits.threshold, bounds) is not None
    return Attainment(share, rate * limits.window, exact, apdex)


@dataclass(frozen=True, slots=True)
class Found:
    by_model: ByModel
    warnings: list[str]
    partial: bool
    kind: Kind


async def fetch_attainment(source: Source, query: SLOQuery, at: float) -> Found:
    """Every model's attainment at ``at``, from one upstream evaluation."""
    sel = source.selector(query)
    choice = await source.choose(query, sel, at)
    limits = Thresholds.of(query)
    reduce: Reduction[Checked[ByModel]]
    if choice.kind == "native":
        promql = native_fractions_query(sel, native_parts(limits), limits.window)
        reduce = partial(native_attainments, sel=sel, tag=part_label(sel), limits=limits)
    else:
        promql = bucket_rates(sel, query.window)
        reduce = Keyed.of(Keys(sel.model_label, "le"), classic_attainments, limits=limits)
    result = await source.upstream.query_reduced(promql, at=at, reduce=reduce)
    checked = trusted(source, result.value)
    warnings = [*choice.warnings, *result.warnings, *checked.notes]
    return Found(checked.value, warnings, result.partial, choice.kind)


def budget_left(share: float | None, objective: float) -> float | None:
    if share is None:
        return None
    if objective >= 1:
        return 1.0 if share >= 1 else None
    return 1 - (1 - share) / (1 - objective)


FIELDS = ("share_under_threshold", "apdex")


def values(found: Attainment, apdex: bool) -> dict[str, object]:
    """A row's value fields (what ``previous`` repeats); ``apdex`` when it was asked."""
    fields: dict[str, object] = {"share_under_threshold": found.share}
    if apdex:
        fields["apdex"] = found.apdex
    return fields


def slo_rows(found: Found, query: SLOQuery, at: float) -> Rows:
    objective, threshold = query.objective_share, query.threshold
    apdex = query.apdex_t_ms is not None
    return [
        {
            "model": model,
            **values(a, apdex),
            "objective": objective,
            "met": None if a.share is None else a.share >= objective,
            "requests": a.requests,
            "error_budget_remaining": budget_left(a.share, objective),
            "exact": a.exact,
            "threshold_ms": threshold,
            "timestamp": at,
        }
        for model, a in found.by_model.items()
    ]


async def current_slo(source: Source, query: SLOQuery) -> Encoded:
    at = query.at()

    async def earlier(when: float) -> Evaluated:
        then = await fetch_attainment(source, query, when)
        return slo_rows(then, query, when), then.warnings, then.partial

    found, before = await beside(
        fetch_attainment(source, query, at), source, query, at, earlier, FIELDS
    )
    data = slo_rows(found, query, at)
    attach(data, before, FIELDS)
    warnings, partial_answer = with_notes(found.warnings, found.partial, before)
    found = replace(found, warnings=warnings, partial=partial_answer)
    extra = {"metric_name": query.metric_name, "time_range": query.time_range}
    return await encoded(found, data, extra)
