"""Which profiles' metric names an engine has: one label-values call, remembered.

``MetricNames.present`` asks ``/api/v1/label/__name__/values`` with a ``match[]`` of
every name the profiles may read (so the engine answers from its index, reading no
samples), at most once per ``ttl`` seconds per engine and selector; concurrent
callers share the one call (single-flight).

    names = MetricNames(ttl=300)
    found = await names.present(upstream, wanted, fixed_matchers=(), at=now)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable

from app.promql.builder import SeriesSelector, series_selector
from app.promql.signals import any_of
from app.promql.upstream import Upstream

MAX_KEYS = 256
LOOKBACK_SECONDS = 3600.0  # a name with series in the last hour exists, whatever the window
Key = tuple[str, tuple[str, ...], tuple[str, ...]]


class MetricNames:
    """The metric names each engine has, asked at most once per ``ttl`` seconds."""

    def __init__(self, *, ttl: float = 300.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._known: dict[Key, tuple[frozenset[str], float]] = {}
        self._asking: dict[Key, asyncio.Future[frozenset[str]]] = {}

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
        known = self._known.get(key)
        if known is not None and self.clock() < known[1]:
            return known[0]
        asking = self._asking.get(key)
        if asking is None:
            sel = any_of(SeriesSelector("", "", (), fixed_matchers), names)
            asking = asyncio.ensure_future(self._ask(upstream, series_selector(sel), at))
            self._asking[key] = asking
            asking.add_done_callback(lambda _: self._asking.pop(key, None))
        found = await asyncio.shield(asking)
        if len(self._known) >= MAX_KEYS:
            self._known.clear()
        self._known[key] = (found, self.clock() + self.ttl)
        return found

    async def _ask(self, upstream: Upstream, match: str, at: float) -> frozenset[str]:
        start = at - LOOKBACK_SECONDS
        result = await upstream.label_values("__name__", match=match, start=start, end=at)
        return frozenset(result.items)
