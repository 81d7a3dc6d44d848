"""Which profiles' metric names an engine has: one label-values call, remembered.

``MetricNames.present`` asks ``/api/v1/label/__name__/values`` with a ``match[]`` of
every name the profiles may read (so the engine answers from its index, reading no
samples), at most once per ``ttl`` seconds per engine and selector; concurrent
callers share the one call (``app/singleflight.py``).

    names = MetricNames(ttl=300)
    found = await names.present(upstream, wanted, fixed_matchers=(), at=now)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from app.promql.builder import SeriesSelector, series_selector
from app.promql.signals import any_of
from app.promql.upstream import Upstream
from app.singleflight import SingleFlight

MAX_KEYS = 256
LOOKBACK_SECONDS = 3600.0  # a name with series in the last hour exists, whatever the window
Key = tuple[str, tuple[str, ...], tuple[str, ...]]


class MetricNames:
    """The metric names each engine has, asked at most once per ``ttl`` seconds."""

    def __init__(self, *, ttl: float = 300.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._flights: SingleFlight[Key, frozenset[str]] = SingleFlight(
            ttl=lambda found: ttl, max_keys=MAX_KEYS, clock=clock
        )

    async def present(
        self,
        upstream: Upstream,
        wanted: Iterable[str],
        *,
        fixed_matchers: tuple[str, ...],
        at: float,
    ) -> frozenset[str]:
        """Those of ``wanted`` that have series under ``fixed_matchers`` in the hour before
        ``at``; remembered per engine and selector whatever the time asked (as the kinds
        of histograms are, app/services/kinds.py)."""
        names = tuple(sorted(set(wanted)))
        key: Key = (upstream.name, fixed_matchers, names)
        return await self._flights.run(key, lambda: self._ask(upstream, key, at))

    async def _ask(self, upstream: Upstream, key: Key, at: float) -> frozenset[str]:
        _, fixed_matchers, names = key
        match = series_selector(any_of(SeriesSelector("", "", (), fixed_matchers), names))
        start = at - LOOKBACK_SECONDS
        result = await upstream.label_values("__name__", match=match, start=start, end=at)
        return frozenset(result.items)
