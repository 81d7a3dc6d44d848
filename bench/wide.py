"""How a cache miss grows with the number of models, next to Prometheus answering directly.

One series per model and bucket (``bench_wide<N>_seconds``, bench/dataset.py), so no
aggregation across instances hides the service's own work. The comparator is what a user
would send Prometheus: ``histogram_quantile(q, sum by (model, le) (rate(..._bucket[5m])))``
for the same instant (and the same range), measured in pairs in one run.

Writes the table rows, and ``bench/results.png``: miss latency against models for the
service and for Prometheus directly.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.dataset import WIDE_SIZES, wide_metric
from bench.load import paired, paired_ratio, timed_get
from bench.report import Row, at_most

CHART = Path(__file__).with_name("results.png")
P95 = "/api/metrics/p95/"
PERCENTILES = "/api/metrics/percentiles/"
RANGE = "/api/metrics/p95/range/"
MB = 1 << 20
MISS_LIMITS = {65: 1.3, 2000: 1.1, 10_000: 1.1}


@dataclass(frozen=True)
class Point:
    models: int
    service_ms: float
    prometheus_ms: float


def bucket_rates(models: int) -> str:
    return f"sum by (model, le) (rate({wide_metric(models)}_bucket[5m]))"


def user_query(quantile: float, models: int) -> str:
    return f"histogram_quantile({quantile}, {bucket_rates(models)})"


def rounds_for(models: int, quick: bool) -> int:
    base = {65: 40, 2000: 16, 10_000: 6}[models]
    return max(4, base // 2) if quick else base


async def wide_misses(bench) -> list[Row]:  # type: ignore[no-untyped-def]
    """Instant misses, 3 percentiles vs 1, a 1 h range miss and memory, by model count."""
    rows: list[Row] = []
    points: list[Point] = []
    # The range delta cache would answer a repeated range from memory: off, so each is a miss.
    with bench.service("wide", RANGE_CACHE_MAX_BYTES="0") as service:
        async with httpx.AsyncClient(timeout=300) as client:
            for models in WIDE_SIZES:
                point, found = await _instant(bench, client, service.url, models)
                points.append(point)
                rows += found
            rows.append(await _range(bench, client, service.url))
        rss = service.rss()
    rows.append(
        at_most(
            "14",
            "resident memory after answering 10,000 models, vs 250 MB",
            f"{rss / MB:.0f} MB",
            rss / (250 * MB),
            1,
        )
    )
    chart(points)
    return rows


async def _instant(  # type: ignore[no-untyped-def]
    bench, client: httpx.AsyncClient, url: str, models: int
) -> tuple[Point, list[Row]]:
    metric = wide_metric(models)
    rounds = rounds_for(models, bench.quick)

    async def prometheus(i: int) -> float:
        params = {"query": user_query(0.95, models), "time": bench.end - 60 - i}
        return await timed_get(client, f"{bench.prometheus_url}/api/v1/query", params)

    async def rates(i: int) -> float:
        # What the service asks for several percentiles, asked of Prometheus directly.
        params = {"query": bucket_rates(models), "time": bench.end - 60 - i}
        return await timed_get(client, f"{bench.prometheus_url}/api/v1/query", params)

    async def p95(i: int) -> float:
        params = {"metric_name": metric, "time": bench.end - 60 - i}
        return await timed_get(client, url + P95, params)

    async def three(i: int) -> float:
        params = {"metric_name": metric, "percentiles": "50,95,99", "time": bench.end - 400 - i}
        return await timed_get(client, url + PERCENTILES, params)

    async def one(i: int) -> float:
        params = {"metric_name": metric, "percentiles": "95", "time": bench.end - 400 - i}
        return await timed_get(client, url + PERCENTILES, params)

    await paired(prometheus, p95, 2)  # warm-up (and the once-per-metric histogram-kind probe)
    ours, theirs = await paired(p95, prometheus, rounds)
    fan, single = await paired(three, one, rounds)
    # The floor of the 3-vs-1 ratio: Prometheus's own time to answer the bucket rates (one
    # sample per model and bucket) against its histogram_quantile (one per model).
    rated, quantiled = await paired(rates, prometheus, rounds)
    floor = paired_ratio(rated, quantiled)
    ms = statistics.median
    point = Point(models, ms(ours) * 1000, ms(theirs) * 1000)
    return point, [
        at_most(
            "14",
            f"{models:,} models: instant miss (p95) vs Prometheus's own histogram_quantile",
            f"median {point.service_ms:.1f} ms vs {point.prometheus_ms:.1f} ms",
            paired_ratio(ours, theirs),
            MISS_LIMITS[models],
        ),
        at_most(
            "14",
            f"{models:,} models: 3 percentiles vs 1, misses",
            f"median {ms(fan) * 1000:.1f} ms vs {ms(single) * 1000:.1f} ms; Prometheus alone "
            f"answers the bucket rates in {floor:.2f}x its histogram_quantile's time",
            paired_ratio(fan, single),
            1.3,
        ),
    ]


async def _range(bench, client: httpx.AsyncClient, url: str) -> Row:  # type: ignore[no-untyped-def]
    models = 2000
    metric = wide_metric(models)
    rounds = 3 if bench.quick else 6

    def span(i: int) -> tuple[int, int]:
        end = bench.end - 60 * (i + 1)
        return end - 3600, end

    async def prometheus(i: int) -> float:
        start, end = span(i)
        params = {"query": user_query(0.95, models), "start": start, "end": end, "step": "60"}
        return await timed_get(client, f"{bench.prometheus_url}/api/v1/query_range", params)

    async def service(i: int) -> float:
        start, end = span(i)
        params = {"metric_name": metric, "start": start, "end": end, "step": "1m"}
        return await timed_get(client, url + RANGE, params)

    ours, theirs = await paired(service, prometheus, rounds)
    ms = statistics.median
    return at_most(
        "14",
        "2,000 models: 1 h range at 1 m, miss vs Prometheus's own range query",
        f"median {ms(ours) * 1000:.0f} ms vs {ms(theirs) * 1000:.0f} ms",
        paired_ratio(ours, theirs),
        1.1,
    )


def chart(points: list[Point]) -> None:
    """Miss latency against models, the service and Prometheus directly, log-log."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(7, 4.2), dpi=110)
    models = [p.models for p in points]
    axes.plot(models, [p.service_ms for p in points], "o-", label="service, cache miss (p95)")
    axes.plot(models, [p.prometheus_ms for p in points], "s--", label="Prometheus directly")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("models (one series per model and bucket, 12 buckets)")
    axes.set_ylabel("median latency, ms")
    axes.set_title("Instant cache miss vs Prometheus's own histogram_quantile")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(CHART)
    pyplot.close(figure)
