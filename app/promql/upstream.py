"""What the services need from a query engine: the ``Upstream`` protocol and its results.

``PrometheusClient`` (app/promql/client.py) speaks Prometheus's HTTP API, which
Thanos, Mimir, Cortex and VictoriaMetrics speak too; ``RangeCachedUpstream``
(app/promql/range_cache.py) wraps any upstream to keep settled range points. A new
engine that does not speak that API implements this protocol and is given to the
lifespan; services and routers do not change.

    upstream: Upstream = RangeCachedUpstream(PrometheusClient(http, url), RangeCache())
    result = await upstream.query("up", at=time.time())
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Annotated, Any, Generic, NamedTuple, Protocol, TypeVar

import msgspec

from app.breaker import CircuitBreaker

Labels = Mapping[str, str]
T = TypeVar("T")
R = TypeVar("R")


# Decoded straight from the engine's JSON by app/promql/decode.py (msgspec, in C): one
# record per sample and no pass of Python over the answer before a reducer reads it.
# ``gc=False``: records hold no cycles, so the collector never walks them
# (docs/performance.md).
Stamp = Annotated[float, msgspec.Meta(ge=-1e13, le=1e13)]
"""A timestamp, unix seconds: a finite number (NaN or an infinity is a bad answer)."""


class NativeHistogram(msgspec.Struct, frozen=True, gc=False):
    """A native histogram sample's ``histogram`` field: its count and its buckets, each
    ``(boundary rule, lower, upper, count)`` as Prometheus lists it (the rule says which
    ends are closed)."""

    count: float
    buckets: list[tuple[int, float, float, float]] = []


class Sample(msgspec.Struct, gc=False):
    """One sample of an instant answer: ``labels`` (the engine's ``metric``) and either
    ``point``, ``(timestamp, value)``, or, for a native histogram, ``native``,
    ``(timestamp, histogram)``. A value that is no number (NaN, an infinity) is kept as
    the float the engine sent; ``value`` reads it as None."""

    labels: dict[str, str] = msgspec.field(name="metric", default_factory=dict)
    point: tuple[Stamp, float] | None = msgspec.field(name="value", default=None)
    native: tuple[Stamp, NativeHistogram] | None = msgspec.field(name="histogram", default=None)

    @property
    def timestamp(self) -> float:
        point = self.point or self.native
        return point[0] if point is not None else math.nan

    @property
    def value(self) -> float | None:
        """The value, or None for no number (NaN, an infinity, a native histogram)."""
        if self.point is None:
            return None
        value = self.point[1]
        return value if value - value == 0 else None

    @property
    def histogram(self) -> NativeHistogram | None:
        return None if self.native is None else self.native[1]

    def lacks(self, label: str) -> bool:
        """Whether the sample has no ``label``."""
        return label not in self.labels


class Keys(NamedTuple):
    """The labels a grouping reducer reads of each sample (app/promql/screen.py): the one
    it groups by (the model label), the one that keys a group's values (``le``, a
    quantile's tag; None: one value per group) and a ``tag`` that sorts samples apart."""

    group: str
    key: str | None = None
    tag: str | None = None


class Kept(msgspec.Struct, gc=False):
    """The values of a sample's ``Keys`` labels (None where it has none). The decoder made
    for the keys (app/promql/decode.py) reads these and drops every other label."""

    group: str | None = None
    key: str | None = None
    tag: str | None = None


class KeptSample(msgspec.Struct, gc=False):
    """A sample of an instant answer with only its ``Keys`` labels kept: no dictionary
    per sample (what that saves a large answer: docs/performance.md)."""

    labels: Kept = msgspec.field(name="metric", default_factory=Kept)
    point: tuple[Stamp, float] | None = msgspec.field(name="value", default=None)

    def lacks(self, label: str) -> bool:
        """Whether the sample has no value for ``label`` (its keys' group label)."""
        return self.labels.group is None


@dataclass(frozen=True, slots=True)
class Keyed(Generic[R]):
    """A reducer that reads only the ``keys`` labels of the samples: ``query_reduced``
    decodes the answer into ``KeptSample`` records for it."""

    keys: Keys
    reduce: Callable[[list[KeptSample]], R]

    @staticmethod
    def of(keys: Keys, reduce: Callable[..., R], **options: Any) -> Keyed[R]:
        """``reduce(samples, keys=keys, **options)``, reading ``keys``."""
        return Keyed(keys, partial(reduce, keys=keys, **options))


Reduction = Callable[[list[Sample]], R] | Keyed[R]
"""What ``Upstream.query_reduced`` runs on an answer's samples."""


def around(reduce: Reduction[R], wrapper: Callable[..., T]) -> Reduction[T]:
    """``wrapper(reduce, samples)`` as a reduction of the same kind as ``reduce``."""
    if isinstance(reduce, Keyed):
        return Keyed(reduce.keys, partial(wrapper, reduce.reduce))
    return partial(wrapper, reduce)


Point = tuple[Stamp, float]
"""``(timestamp, value)`` of a range series; NaN where the engine sent no number."""


class Series(msgspec.Struct, gc=False):
    """A range series: ``points`` in time order, and its native-histogram points
    (``histograms``), if any, in time order."""

    labels: dict[str, str] = msgspec.field(name="metric", default_factory=dict)
    points: list[Point] = msgspec.field(name="values", default_factory=list)
    histograms: list[tuple[Stamp, NativeHistogram]] = []


# Warnings that are about the query itself; any other warning says the engine answered
# from part of its data (Thanos's rule for partial responses).
QUERY_NOTES = ("PromQL info", "PromQL warning")


def is_partial(warnings: list[str]) -> bool:
    return any(not warning.startswith(QUERY_NOTES) for warning in warnings)


@dataclass(frozen=True, slots=True)
class QueryResult(Generic[T]):
    items: list[T]
    warnings: list[str] = field(default_factory=list)

    @property
    def partial(self) -> bool:
        return is_partial(self.warnings)


@dataclass(frozen=True, slots=True)
class Reduced(Generic[R]):
    """What ``Upstream.query_reduced``'s ``reduce`` made of the samples, and the warnings."""

    value: R
    warnings: list[str] = field(default_factory=list)

    @property
    def partial(self) -> bool:
        return is_partial(self.warnings)


class Upstream(Protocol):
    """A PromQL engine. Every failure is raised as an ``app.errors.UpstreamError``."""

    @property
    def name(self) -> str:
        """How the engine is named in logs and, if allowed, in answers (no credentials)."""

    @property
    def breaker(self) -> CircuitBreaker | None:
        """The circuit breaker guarding the engine (reported by ``/health``)."""

    async def query(self, promql: str, *, at: float) -> QueryResult[Sample]:
        """Evaluate an instant query at unix time ``at``."""

    async def query_reduced(self, promql: str, *, at: float, reduce: Reduction[R]) -> Reduced[R]:
        """Evaluate an instant query; only ``reduce(samples)`` comes back (``Keyed``: the
        samples keep only its keys' labels). ``reduce`` runs where the answer is parsed
        (for a large answer, a worker thread), so a large answer never reaches, nor is
        freed on, the event loop; it owns ``samples`` and may empty the list once it has
        read them."""

    async def query_range(
        self, promql: str, *, start: float, end: float, step: float, lookback: float = 0.0
    ) -> QueryResult[Series]:
        """Evaluate a range query; ``lookback``: how far back points may still change."""

    async def ready(self) -> None:
        """Return when the engine can answer queries; raise an ``UpstreamError`` if not."""

    async def label_values(
        self, label: str, *, match: str, start: float, end: float
    ) -> QueryResult[str]:
        """The values ``label`` takes on series matching ``match`` between ``start`` and
        ``end`` (``/api/v1/label/<label>/values``): which metric names exist, cheaply."""


class PassThrough:
    """An ``Upstream`` that hands every call to ``inner``: the base of the wrappers that
    change one or two calls (the range cache, range screening, redaction)."""

    def __init__(self, inner: Upstream) -> None:
        self.inner = inner

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def breaker(self) -> CircuitBreaker | None:
        return self.inner.breaker

    async def query(self, promql: str, *, at: float) -> QueryResult[Sample]:
        return await self.inner.query(promql, at=at)

    async def query_reduced(self, promql: str, *, at: float, reduce: Reduction[R]) -> Reduced[R]:
        return await self.inner.query_reduced(promql, at=at, reduce=reduce)

    async def query_range(
        self, promql: str, *, start: float, end: float, step: float, lookback: float = 0.0
    ) -> QueryResult[Series]:
        return await self.inner.query_range(
            promql, start=start, end=end, step=step, lookback=lookback
        )

    async def label_values(
        self, label: str, *, match: str, start: float, end: float
    ) -> QueryResult[str]:
        return await self.inner.label_values(label, match=match, start=start, end=end)

    async def ready(self) -> None:
        await self.inner.ready()
