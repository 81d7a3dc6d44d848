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

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from app.breaker import CircuitBreaker

Labels = Mapping[str, str]
T = TypeVar("T")
R = TypeVar("R")


# Not frozen: an answer holds up to hundreds of thousands of these, and a frozen
# dataclass's __init__ is slower (docs/performance.md). Nothing changes them after parsing.
@dataclass(slots=True)
class Sample:
    labels: Labels
    timestamp: float
    value: float | None


NativeBucket = tuple[float, float, float]
"""``(lower, upper, count)`` of one native-histogram bucket, as Prometheus lists it."""


@dataclass(frozen=True, slots=True)
class NativeHistogram:
    """A native histogram sample's ``histogram`` field: its count and its buckets."""

    count: float
    buckets: list[NativeBucket]


@dataclass(slots=True)
class HistogramSample(Sample):
    """A sample whose value is a native histogram (``value`` is None); only queries of
    native histograms answer these, so float samples pay nothing for them."""

    histogram: NativeHistogram


@dataclass(slots=True)
class Series:
    labels: Labels
    points: list[tuple[float, float | None]]


@dataclass(slots=True)
class HistogramSeries(Series):
    """A range series with native-histogram points (``histograms``), in time order."""

    histograms: list[tuple[float, NativeHistogram]]


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

    async def query_reduced(
        self, promql: str, *, at: float, reduce: Callable[[list[Sample]], R]
    ) -> Reduced[R]:
        """Evaluate an instant query; only ``reduce(samples)`` comes back. ``reduce`` runs
        where the answer is parsed (for a large answer, a worker thread), so a large
        answer never reaches, nor is freed on, the event loop."""

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
