"""Which kind of histogram a metric has: classic (``_bucket`` series), native, or both.

``histogram=auto`` (the default) asks the engine once per metric and remembers the
answer for ``ttl`` seconds, so choosing is not a second round trip on every request.
When a metric has both kinds (a migration in progress), native wins and the answer's
``warnings`` say so; ``histogram=classic`` or ``native`` forces the choice.

    kinds = HistogramKinds(ttl=300)
    choice = await kinds.choose(upstream, selector, window=300, at=now, wanted="auto")
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from app.errors import UpstreamBadResponse
from app.params import HistogramChoice, HistogramKind
from app.promql.builder import SeriesSelector
from app.promql.native import (
    KIND_CLASSIC,
    KIND_NATIVE,
    histogram_kinds_query,
    parse_histogram_kinds,
)
from app.promql.upstream import Upstream
from app.singleflight import SingleFlight

Kind = HistogramKind
Wanted = HistogramChoice
EMPTY_TTL = 30.0  # a metric with no data yet is asked again sooner
MAX_METRICS = 1024


@dataclass(frozen=True, slots=True)
class Choice:
    kind: Kind
    warnings: tuple[str, ...] = ()


class HistogramKinds:
    """The kinds each metric has, per upstream, asked at most once per ``ttl`` seconds."""

    def __init__(self, *, ttl: float = 300.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._flights: SingleFlight[tuple[str, ...], frozenset[str]] = SingleFlight(
            ttl=lambda kinds: ttl if kinds else EMPTY_TTL, max_keys=MAX_METRICS, clock=clock
        )

    async def choose(
        self, upstream: Upstream, sel: SeriesSelector, *, window: float, at: float, wanted: Wanted
    ) -> Choice:
        if wanted != "auto":
            return Choice(wanted)
        kinds = await self.kinds(upstream, sel, window, at)
        if kinds == {KIND_CLASSIC, KIND_NATIVE}:
            note = (
                f"{sel.metric_name} has classic and native histograms in this window; "
                "the answer uses the native ones (histogram=classic asks for the others)"
            )
            return Choice("native", (note,))
        return Choice("native" if kinds == {KIND_NATIVE} else "classic")

    async def kinds(
        self, upstream: Upstream, sel: SeriesSelector, window: float, at: float
    ) -> frozenset[str]:
        """The kinds of ``sel``'s metric over all models, remembered per metric."""
        key = (upstream.name, sel.metric_name, sel.model_label, *sel.fixed_matchers)
        everyone = replace(sel, models=())
        return await self._flights.run(key, lambda: self._ask(upstream, everyone, window, at))

    async def _ask(
        self, upstream: Upstream, sel: SeriesSelector, window: float, at: float
    ) -> frozenset[str]:
        try:
            result = await upstream.query(histogram_kinds_query(sel, window), at=at)
        except UpstreamBadResponse:
            # No native-histogram functions (VictoriaMetrics, Prometheus before 2.40):
            # such an engine can only hold classic histograms.
            return frozenset({KIND_CLASSIC})
        per_model = parse_histogram_kinds((s.labels for s in result.items), sel)
        return frozenset().union(*per_model.values())
