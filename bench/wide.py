"""How a cache miss grows with the number of models, next to the engine's own floor.

One series per model and bucket (``bench_wide<N>_seconds``, bench/dataset.py), so no
aggregation across instances hides the service's own work. Every miss row compares the
service with the cheapest way Prometheus gives the same information to a client asking it
directly, measured in pairs in one run at the same instant:

- several percentiles and SLO attainment: the bucket rates themselves,
  ``sum by (model, le) (rate(..._bucket[5m]))``, from which each answer is computed;
- the distribution: the same bucket rates and, tagged apart, the models whose buckets had
  different sample counts in the window (``suspects_query``), from which it tells a bucket
  layout that changed (the dataset has none, so no second query follows);
- one percentile (``/p95/``): ``histogram_quantile(0.95, <those bucket rates>)``;
- the 1 h range at 1 m: Prometheus's own range query of that ``histogram_quantile``.

Each row also shows the service's CPU time per miss (all its threads). At 65 models,
where the engine answers in a few milliseconds, each row also shows the framework's own
floor of a miss: a bare FastAPI route sending the engine the floor's query and returning
its bytes (``proxy_app``, bench/floors.py), against the same floor in rounds of its own.
Writes the table rows, and ``bench/results.png``: miss latency against models for the
service and its floor, one panel per endpoint.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from app.promql.builder import SeriesSelector
from app.promql.layout import suspects_query
from bench.dataset import WIDE_SIZES, wide_metric
from bench.load import Instants, Paired, paired_at, settled_cpu, timed_get
from bench.processes import uvicorn
from bench.report import Row, at_most
from bench.targets import Bench
from bench.wide_chart import Point, chart
from harness.processes import Service

RANGE = "/api/metrics/p95/range/"
MB = 1 << 20
CPU_MISSES = 16  # at least this many misses per CPU row: the clock ticks every 10 ms
CPU_MODELS = 2000
PROXY_MODELS = 65  # where the framework's floor of a miss is shown beside each row


def bucket_rates(models: int) -> str:
    return f"sum by (model, le) (rate({wide_metric(models)}_bucket[5m]))"


def user_query(models: int, quantile: float = 0.95) -> str:
    return f"histogram_quantile({quantile}, {bucket_rates(models)})"


def layouts(models: int) -> str:
    """The distribution's own query: the bucket rates and, tagged apart, the models whose
    buckets had different sample counts in the window (app/promql/layout.py), which tells
    a bucket layout that changed; the engine evaluates the bucket selector twice for it."""
    return suspects_query(SeriesSelector(wide_metric(models), "model"), 300)


@dataclass(frozen=True, eq=False)  # a key by identity: its fields hold dicts
class Endpoint:
    """An instant endpoint and its parameters; its floor (the query for a model count, and
    its name); its limits by model count; the rows' text after the model count."""

    name: str
    path: str
    params: dict[str, str]
    floor: Callable[[int], str]
    floor_name: str
    limits: dict[int, float]
    what: str

    def row_text(self, models: int) -> str:
        return f"{models:,} models: {self.what}"

    @property
    def title(self) -> str:
        return f"{self.name}; floor: {self.floor_name}"


# One number per model from the engine vs every bucket (twelve times the samples to send).
ONE_PER_MODEL = {65: 1.3, 2000: 1.1, 10_000: 1.1}
EVERY_BUCKET = {65: 1.3, 2000: 1.15, 10_000: 1.15}
P95 = Endpoint(
    name="p95",
    path="/api/metrics/p95/",
    params={},
    floor=user_query,
    floor_name="histogram_quantile",
    limits=ONE_PER_MODEL,
    what="instant miss (p95) vs Prometheus's own histogram_quantile",
)
PERCENTILES = Endpoint(
    name="percentiles 50, 95, 99",
    path="/api/metrics/percentiles/",
    params={"percentiles": "50,95,99"},
    floor=bucket_rates,
    floor_name="bucket rates",
    limits=EVERY_BUCKET,
    what="3 percentiles, miss vs Prometheus's own bucket rates",
)
SLO = Endpoint(
    name="SLO, threshold 250 ms",
    path="/api/metrics/slo/",
    # Over the floor's 5m window (the endpoint's own default is 1h).
    params={"threshold_ms": "250", "time_range": "5m"},
    floor=bucket_rates,
    floor_name="bucket rates",
    limits=EVERY_BUCKET,
    what="SLO attainment, miss vs Prometheus's own bucket rates",
)
DISTRIBUTION = Endpoint(
    name="distribution",
    path="/api/metrics/distribution/",
    params={},
    floor=layouts,
    floor_name="bucket rates and the models whose sample counts differ",
    limits=EVERY_BUCKET,
    what="distribution, miss vs Prometheus's own bucket rates and layout suspects",
)
ENDPOINTS = (P95, PERCENTILES, SLO, DISTRIBUTION)
CPU_LIMITS_MS = ((PERCENTILES, "3 percentiles", 45.0), (P95, "p95", 10.0))


@dataclass(frozen=True)
class Session:
    """What the measurements against one service share; ``instants`` are never reused."""

    bench: Bench
    client: httpx.AsyncClient
    service: Service
    proxy: Service
    instants: Instants

    async def ask(self, endpoint: Endpoint, models: int, at: int) -> float:
        """Seconds for the service to answer ``endpoint`` at ``at``, a miss."""
        params = {"metric_name": wide_metric(models), **endpoint.params, "time": at}
        return await timed_get(self.client, self.service.url + endpoint.path, params)

    async def ask_directly(self, endpoint: Endpoint, models: int, at: int) -> float:
        """Seconds for Prometheus to answer the endpoint's floor at ``at``."""
        params = {"query": endpoint.floor(models), "time": at}
        return await timed_get(self.client, f"{self.bench.prometheus_url}/api/v1/query", params)

    async def ask_through_proxy(self, endpoint: Endpoint, models: int, at: int) -> float:
        """Seconds for the bare FastAPI proxy to answer the endpoint's floor at ``at``."""
        params = {"query": endpoint.floor(models), "time": at}
        return await timed_get(self.client, f"{self.proxy.url}/api/v1/query", params)


def rounds_for(models: int, quick: bool) -> int:
    """Paired rounds per endpoint: many where a round takes milliseconds (a median of six
    moved by a tenth between runs of the same code; docs/performance.md)."""
    base = {65: 120, 2000: 20, 10_000: 10}[models]
    return max(4, base // 2) if quick else base


async def wide_misses(bench: Bench) -> list[Row]:
    """Instant misses of every endpoint by model count, CPU per miss, a 1 h range miss and
    memory; writes the chart."""
    rows: list[Row] = []
    points: dict[str, list[Point]] = {endpoint.title: [] for endpoint in ENDPOINTS}
    engine = {"BENCH_PROMETHEUS_URL": bench.prometheus_url}
    # The range delta cache would answer a repeated range from memory: off, so each is a miss.
    with (
        bench.service("wide", RANGE_CACHE_MAX_BYTES="0") as service,
        uvicorn("bench.floors:proxy_app", engine, bench.workdir / "proxy.log", "/ready") as proxy,
    ):
        async with httpx.AsyncClient(timeout=300) as client:
            session = Session(bench, client, service, proxy, Instants(bench.end - 60))
            for models in WIDE_SIZES:
                found = await _instant(session, models)
                framework = await _framework(session, models) if models == PROXY_MODELS else {}
                for endpoint, pair in found.items():
                    rows.append(_miss_row(endpoint, models, pair, framework.get(endpoint)))
                    points[endpoint.title].append(_point(models, pair))
                if models == CPU_MODELS:
                    rows += [await _cpu_row(session, found, *limit) for limit in CPU_LIMITS_MS]
            rows.append(await _range(session))
        rss = service.rss()
    rows.append(
        at_most(
            "14",
            "resident memory after answering 10,000 models, vs 200 MB",
            f"{rss / MB:.0f} MB",
            rss / (200 * MB),
            1,
        )
    )
    chart(points)
    return rows


async def _instant(session: Session, models: int) -> dict[Endpoint, Paired]:
    """Every endpoint against its floor at ``models``, after one round each to warm up
    (the once-per-metric histogram-kind probe, Prometheus's pages of this metric)."""
    for endpoint in ENDPOINTS:
        await _paired(session, endpoint, models, 1)
    rounds = rounds_for(models, session.bench.quick)
    found = {endpoint: await _paired(session, endpoint, models, rounds) for endpoint in ENDPOINTS}
    await _covered(session, models, session.instants.earliest)
    return found


async def _covered(session: Session, models: int, at: int) -> None:
    """Raise unless the engine has data for every one of ``models`` models at ``at``: rounds
    that ran past the dataset's start would time empty answers, and pass."""
    url = f"{session.bench.prometheus_url}/api/v1/query"
    response = await session.client.get(url, params={"query": P95.floor(models), "time": at})
    response.raise_for_status()
    named = {sample["metric"].get("model") for sample in response.json()["data"]["result"]}
    if len(named) != models:
        raise RuntimeError(f"{models}-model rows: the engine has {len(named)} models at {at}")


async def _paired(session: Session, endpoint: Endpoint, models: int, rounds: int) -> Paired:
    """``rounds`` misses of ``endpoint`` paired with its floor, each round at its own instant."""

    async def ours(at: int) -> float:
        return await session.ask(endpoint, models, at)

    async def theirs(at: int) -> float:
        return await session.ask_directly(endpoint, models, at)

    return await paired_at(session.service, ours, theirs, session.instants.take(rounds))


async def _framework(session: Session, models: int) -> dict[Endpoint, float]:
    """Each endpoint's floor query through the bare FastAPI proxy against the same query
    sent to Prometheus directly, paired in rounds of its own: the ratio a miss cannot go
    below in a FastAPI service that forwards the query and does nothing else."""
    found: dict[Endpoint, float] = {}
    # The instants of the rows just measured, again: nothing here is cached, and the
    # 10,000-model data spans a quarter hour that fresh instants would run past.
    instants = Instants(session.bench.end - 60)
    for endpoint in ENDPOINTS:

        async def proxied(at: int, endpoint: Endpoint = endpoint) -> float:
            return await session.ask_through_proxy(endpoint, models, at)

        async def direct(at: int, endpoint: Endpoint = endpoint) -> float:
            return await session.ask_directly(endpoint, models, at)

        await paired_at(session.proxy, proxied, direct, instants.take(1))  # warm-up
        rounds = instants.take(rounds_for(models, session.bench.quick))
        found[endpoint] = (await paired_at(session.proxy, proxied, direct, rounds)).ratio
    return found


def _miss_row(endpoint: Endpoint, models: int, found: Paired, framework: float | None) -> Row:
    text = endpoint.row_text(models)
    measured = found.described()
    if framework is not None:
        measured += f"; a bare FastAPI proxy of the same query {framework:.2f}x direct"
    return at_most("14", text, measured, found.ratio, endpoint.limits[models])


def _point(models: int, found: Paired) -> Point:
    ms = statistics.median
    return Point(models, ms(found.ours) * 1000, ms(found.theirs) * 1000)


async def _cpu_row(
    session: Session, found: dict[Endpoint, Paired], endpoint: Endpoint, name: str, limit: float
) -> Row:
    """CPU per miss against a limit in ms: over the row's own rounds when there were
    ``CPU_MISSES`` of them, else over that many misses of their own."""
    count = len(found[endpoint].ours)
    cpu_ms = found[endpoint].cpu_ms
    if count < CPU_MISSES:
        count = CPU_MISSES
        cpu_ms = await _cpu_per_miss(session, endpoint, CPU_MODELS, count)
    return at_most(
        "14",
        f"{CPU_MODELS:,} models: CPU per miss, {name}",
        f"{cpu_ms:.1f} ms per miss over {count} misses, vs {limit:g} ms",
        cpu_ms / limit,
        1,
    )


async def _cpu_per_miss(session: Session, endpoint: Endpoint, models: int, count: int) -> float:
    """The service's CPU ms per miss over ``count`` misses of ``endpoint`` in a row."""
    before = await settled_cpu(session.service)
    for at in session.instants.take(count):
        await session.ask(endpoint, models, at)
    return (await settled_cpu(session.service) - before) * 1000 / count


async def _range(session: Session) -> Row:
    models = 2000
    metric = wide_metric(models)
    bench = session.bench

    async def prometheus(end: int) -> float:
        params = {"query": user_query(models), "start": end - 3600, "end": end, "step": "60"}
        url = f"{bench.prometheus_url}/api/v1/query_range"
        return await timed_get(session.client, url, params)

    async def service(end: int) -> float:
        params = {"metric_name": metric, "start": end - 3600, "end": end, "step": "1m"}
        return await timed_get(session.client, session.service.url + RANGE, params)

    ends = session.instants.take(3 if bench.quick else 6)
    found = await paired_at(session.service, service, prometheus, ends)
    return at_most(
        "14",
        "2,000 models: 1 h range at 1 m, miss vs Prometheus's own range query",
        found.described(),
        found.ratio,
        1.1,
    )
