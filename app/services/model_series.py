"""The model scorecard over time: ``GET /api/models/range/``.

Each asked series (``latency_p95``, ``ttft_mean``, ``output_tokens_per_second``…) of each
answering profile is one range query, all sent at once, through the upstream's range
delta cache (``RangeCachedUpstream``: a refreshed chart asks only for its new points).
Percentiles are the engine's own ``histogram_quantile`` (or a summary's quantile series);
rates and ratios are the queries ``/api/models/`` evaluates, over a range.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

import orjson

from app.errors import InvalidParameter, UpstreamError
from app.offload import off_loop
from app.params import check_percentiles
from app.profiles.model import DURATION_SIGNALS
from app.promql.builder import quantile_query, series_selector
from app.promql.native import native_quantile_query
from app.promql.selectors import regex_escape, string_literal
from app.promql.signals import average, counter_rate
from app.promql.upstream import Series
from app.schemas.model_queries import ModelsRangeQuery
from app.services.encoding import Encoded
from app.services.milliseconds import series_milliseconds
from app.services.models import Board, sources
from app.services.signals import Ask, Plan, mean, rate, ratio, selector


@dataclass(frozen=True, slots=True)
class Wanted:
    """One asked series: its name, signal, and percentile (0..1) or ``mean``."""

    name: str
    signal: str
    quantile: float | None = None
    mean: bool = False

    @staticmethod
    def of(name: str) -> Wanted:
        base, _, suffix = name.rpartition("_")
        if base not in DURATION_SIGNALS:
            return Wanted(name, name)
        if suffix == "mean":
            return Wanted(name, base, mean=True)
        return Wanted(name, base, check_percentiles(suffix[1:])[0].value / 100)

    @property
    def unit(self) -> str:
        if self.signal in DURATION_SIGNALS:
            return "ms"
        return "ratio" if self.signal == "success_ratio" else "per_second"


@dataclass(frozen=True, slots=True)
class Asked:
    """The range query of one series of one source, and what scales its values."""

    plan: Plan
    wanted: Wanted
    promql: str
    factor: float


async def series_query(plan: Plan, wanted: Wanted, ask: Ask) -> Asked | None:
    """The query of ``wanted`` from ``plan``'s metric; None when its kind cannot answer it
    (a percentile of an average)."""
    kind, spec = plan.spec.kind, plan.spec
    if plan.signal not in DURATION_SIGNALS:
        promql = ratio(plan, ask) if kind == "ratio" else await rate(plan, ask)
        return Asked(plan, wanted, promql, 1.0)
    factor = spec.milliseconds_factor
    if wanted.mean:
        if kind == "average":
            return Asked(plan, wanted, mean(plan, ask).promql, factor)
        sel = selector(plan, ask)
        sums, counts = (counter_rate(sel, ask.window, s) for s in ("_sum", "_count"))
        return Asked(plan, wanted, average(sums, counts), factor)
    assert wanted.quantile is not None
    if kind == "summary":
        return Asked(plan, wanted, summary_quantile(plan, ask, wanted.quantile), factor)
    if kind != "histogram":
        return None
    sel = selector(plan, ask)
    choice = await ask.kinds.choose(
        ask.upstream, sel, window=ask.window, at=ask.at, wanted=ask.histogram
    )
    build = native_quantile_query if choice.kind == "native" else quantile_query
    return Asked(plan, wanted, build(wanted.quantile, sel, ask.window), factor)


def summary_quantile(plan: Plan, ask: Ask, q: float) -> str:
    """The worst instance's value of one quantile series (``0.95`` or ``0.950000``)."""
    sel = selector(plan, ask)
    matcher = "quantile=~" + string_literal(regex_escape(f"{q:g}") + "0*")
    sel = replace(sel, fixed_matchers=(*sel.fixed_matchers, matcher))
    return f"max by ({plan.model_label}) ({series_selector(sel)})"


@dataclass(frozen=True, slots=True)
class Fetched:
    asked: Asked
    series: list[Series]
    warnings: list[str]
    partial: bool = False
    error: UpstreamError | None = None


async def fetch(asked: Asked, ask: Ask, span: tuple[float, float, float]) -> Fetched:
    start, end, step = span
    try:
        result = await ask.upstream.query_range(
            asked.promql, start=start, end=end, step=step, lookback=ask.window
        )
    except UpstreamError as error:
        plan = asked.plan
        note = f"{plan.source} {asked.wanted.name}: no answer ({error.message})"
        return Fetched(asked, [], [note], partial=True, error=error)
    return Fetched(asked, result.items, result.warnings, result.partial)


def items(fetched: list[Fetched]) -> list[dict[str, object]]:
    data: list[dict[str, object]] = []
    for one in fetched:
        asked = one.asked
        label, factor = asked.plan.model_label, asked.factor
        named = [s for s in one.series if label in s.labels]
        if asked.wanted.unit == "ms":
            shown = series_milliseconds(named, factor)
        else:
            shown = [[v for _, v in s.points] for s in named]
        for s, values in zip(named, shown, strict=True):
            model = s.labels[label]
            points = [
                {"timestamp": ts, "value": v} for (ts, _), v in zip(s.points, values, strict=True)
            ]
            data.append(
                {
                    "model": model,
                    "source": asked.plan.source,
                    "signal": asked.wanted.name,
                    "unit": asked.wanted.unit,
                    "data_points": points,
                }
            )
    return sorted(data, key=lambda d: (str(d["model"]), str(d["source"]), str(d["signal"])))


async def model_series(board: Board, query: ModelsRangeQuery) -> Encoded:
    span = query.span
    end = span[1]
    pinned = None if query.end is None else end
    found = await sources(board, query, end)
    ask = Ask(
        board.upstream, board.cache, board.kinds, board.fixed_matchers, query.models,
        query.window_seconds, end, pinned, (), query.histogram,
    )  # fmt: skip
    wanted = [Wanted.of(name) for name in query.series]
    planned = [(plan, w) for w in wanted for plan in found.plans if plan.signal == w.signal]
    asked = await asyncio.gather(*(series_query(plan, w, ask) for plan, w in planned))
    usable = [a for a in asked if a is not None]
    fetched = list(await asyncio.gather(*(fetch(a, ask, span) for a in usable)))
    errors = [f.error for f in fetched if f.error is not None]
    if errors and len(errors) == len(fetched):
        raise errors[0]  # the engine is down: stale-if-error, or the error itself
    values = check_size(fetched, board.max_values)
    notes = [w for f in fetched for w in f.warnings]
    notes += [
        f"{plan.source} {w.name}: {plan.metric} is a {plan.spec.kind}, which has no percentiles"
        for (plan, w), a in zip(planned, asked, strict=True)
        if a is None
    ]
    answered = {a.wanted.name for a in usable}
    missing = [w.name for w in wanted if w.name not in answered]
    partial = any(f.partial for f in fetched)
    body = await off_loop(values, encode, fetched, query, span, (notes, missing, partial))
    return Encoded(body, partial)


def encode(
    fetched: list[Fetched],
    query: ModelsRangeQuery,
    span: tuple[float, float, float],
    extra: tuple[list[str], list[str], bool],
) -> bytes:
    """The ``ModelsRangeResponse`` document (pure: may run in a worker thread)."""
    notes, missing, partial = extra
    data = items(fetched)
    return orjson.dumps(
        {
            "status": "success",
            "count": len(data),
            "start": span[0],
            "end": span[1],
            "step": query.step,
            "warnings": list(dict.fromkeys(notes)),
            "partial": partial,
            "stale": False,
            "missing": missing,
            "data": data,
        }
    )


def check_size(fetched: list[Fetched], limit: int) -> int:
    """The number of values in the answer; a 400 naming the limit if there are too many."""
    values = sum(len(s.points) for f in fetched for s in f.series)
    if values > limit:
        raise InvalidParameter(
            f"the answer would hold {values} values, more than MAX_RESPONSE_POINTS ({limit}); "
            "use a larger step such as 5m, a shorter duration, fewer signals or fewer models",
            parameter="step",
        )
    return values
