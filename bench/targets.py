"""One function per target of the performance issue; each returns its table rows.

Every ratio compares two things measured in this run on this machine.
"""

from __future__ import annotations

import asyncio
import math
import random
import statistics
import time
from collections import Counter
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from bench.dataset import DENSE, SPARSE
from bench.load import burst, paired, paired_ratio, polling_limits, timed_get, wrk_rps
from bench.processes import uvicorn
from bench.querylog import LoggedQuery, QueryLog
from bench.report import Row, at_least, at_most
from harness.processes import Service

P95 = "/api/metrics/p95/"
PERCENTILES = "/api/metrics/percentiles/"
SUMMARY = "/api/metrics/"
RANGE = "/api/metrics/p95/range/"
RANGE_QUESTION = {"metric_name": DENSE, "duration": "1h", "step": "1m"}
READY = "/openapi.json"
MB = 1 << 20


@dataclass
class Bench:
    """What every target needs: Prometheus, its query log, a scratch dir, the data's end."""

    prometheus_url: str
    querylog: QueryLog
    workdir: Path
    end: int
    quick: bool = False
    engine_pid: int | None = None  # Prometheus's process, for its own CPU time

    def engine_cpu(self) -> float:
        """CPU seconds Prometheus has used so far, user and system (0 when unknown)."""
        if self.engine_pid is None:
            return 0.0
        times = psutil.Process(self.engine_pid).cpu_times()
        return float(times.user + times.system)

    def service(self, name: str, **settings: str) -> AbstractContextManager[Service]:
        env = {"PROMETHEUS_URL": self.prometheus_url, **settings}
        return uvicorn("app.main:app", env, self.workdir / f"{name}.log", READY)

    async def logged_after(self, pause: float = 0.5) -> list:
        await asyncio.sleep(pause)  # let Prometheus finish writing its log lines
        return self.querylog.since_mark()


def user_query(quantile: float, metric: str = DENSE, window: str = "5m") -> str:
    """What a user would send Prometheus for the same answer."""
    return f"histogram_quantile({quantile}, sum by (model, le) (rate({metric}_bucket[{window}])))"


# ---- 1: cache hits ---------------------------------------------------------------------


def cache_hits(bench: Bench) -> list[Row]:
    rounds = 2 if bench.quick else 5  # the floors' own throughput varies by a third run to run
    with bench.service("hits", CACHE_TTL_SECONDS="3600") as service:
        url = f"{service.url}{P95}?metric_name={DENSE}"
        first = httpx.get(url, timeout=30)
        assert first.status_code == 200, first.text
        assert httpx.get(url).headers["x-cache"] == "HIT"
        body = bench.workdir / "body.json"
        body.write_bytes(first.content)
        floors_env = {"BENCH_BODY_FILE": str(body)}
        log = bench.workdir / "floors.log"
        with (
            uvicorn("bench.floors:fastapi_app", floors_env, log, P95) as fastapi_floor,
            uvicorn("bench.floors:raw_app", floors_env, log, P95) as raw_floor,
        ):
            assert httpx.get(fastapi_floor.url + P95).content == first.content
            targets = {
                "service": url,
                "fastapi": fastapi_floor.url + P95,
                "raw": raw_floor.url + P95,
            }
            for name in targets:  # warm each once (imports, first-request setup)
                wrk_rps(targets[name], seconds=1)
            runs: dict[str, list[float]] = {name: [] for name in targets}
            for _ in range(rounds):
                for name, target in targets.items():
                    runs[name].append(wrk_rps(target, seconds=5))
    # Best of the interleaved runs: other work on a shared machine only ever slows a run.
    rps = {name: max(values) for name, values in runs.items()}
    measured = ", ".join(f"{name} {value:,.0f} req/s" for name, value in rps.items())
    return [
        at_least(
            "1", "cache hits vs bare FastAPI endpoint", measured, rps["service"] / rps["fastapi"], 2
        ),
        at_least("1", "cache hits vs raw ASGI app", measured, rps["service"] / rps["raw"], 0.5),
    ]


# ---- 2 and 3: misses ---------------------------------------------------------------------


async def misses(bench: Bench) -> list[Row]:
    rounds = 30 if bench.quick else 60
    with bench.service("misses", CACHE_TTL_SECONDS="3600") as service:
        async with httpx.AsyncClient(timeout=60) as client:

            async def prometheus(i: int) -> float:
                params = {"query": user_query(0.95), "time": bench.end - 60 - i}
                return await timed_get(client, f"{bench.prometheus_url}/api/v1/query", params)

            async def p95(i: int) -> float:
                params = {"metric_name": DENSE, "time": bench.end - 60 - i}
                return await timed_get(client, service.url + P95, params)

            async def three(i: int) -> float:
                params = {
                    "metric_name": DENSE,
                    "percentiles": "50,95,99",
                    "time": bench.end - 900 - i,
                }
                return await timed_get(client, service.url + PERCENTILES, params)

            async def one(i: int) -> float:
                params = {"metric_name": DENSE, "percentiles": "95", "time": bench.end - 900 - i}
                return await timed_get(client, service.url + PERCENTILES, params)

            await paired(prometheus, _offset(p95, 2000), 20)  # warm-up, keys not reused
            # Both evaluate at the same instants (the same chunks); the order alternates.
            ours, theirs = await paired(p95, prometheus, rounds)
            fan, single = await paired(three, one, rounds)
    ms = statistics.median
    return [
        at_most(
            "2",
            "cache miss (p95) vs Prometheus answering the same PromQL",
            f"median {ms(ours) * 1000:.1f} ms vs {ms(theirs) * 1000:.1f} ms",
            paired_ratio(ours, theirs),
            1.15,
        ),
        at_most(
            "3",
            "3 percentiles vs 1 percentile, all misses",
            f"median {ms(fan) * 1000:.1f} ms vs {ms(single) * 1000:.1f} ms",
            paired_ratio(fan, single),
            1.3,
        ),
    ]


def _offset(measure, by: int):  # type: ignore[no-untyped-def]
    async def shifted(i: int) -> float:
        return await measure(i + by)

    return shifted


# ---- 4: coalescing -----------------------------------------------------------------------


async def coalescing(bench: Bench) -> list[Row]:
    count = 500
    cases = [
        (P95, {"metric_name": DENSE, "time": bench.end - 3000}),
        (PERCENTILES, {"metric_name": DENSE, "percentiles": "50,95,99", "time": bench.end - 3000}),
        (SUMMARY, {"metric_name": DENSE, "time": bench.end - 3001}),
        (
            RANGE,
            {"metric_name": SPARSE, "start": bench.end - 86400, "end": bench.end, "step": "1m"},
        ),
    ]
    worst, queries, expressions = 0, 0, 0
    with bench.service("coalescing", CACHE_TTL_SECONDS="3600") as service:
        for path, params in cases:
            bench.querylog.mark()
            statuses = await burst(service.url + path, params, count)
            if set(statuses) != {200}:
                raise RuntimeError(f"{path}: statuses {Counter(statuses)}")
            per_expression = Counter(q.query for q in await bench.logged_after())
            worst = max(worst, *per_expression.values())
            queries += sum(per_expression.values())
            expressions += len(per_expression)
    return [
        at_most(
            "4",
            f"{count} concurrent identical cold requests: upstream queries per expression",
            f"{len(cases)} x {count} requests, {queries} queries for {expressions} expressions",
            worst,
            1,
        )
    ]


# ---- 5: polling ------------------------------------------------------------------------


def status_questions(bench: Bench) -> list[tuple[str, dict[str, object]]]:
    """The status page's two questions (rows 5 and 8). The summary is pinned to the end of
    the backfilled data: asked at "now" it would find nothing once the backfill and the
    earlier targets have taken longer than its 5 m window, and a metric with no data is
    asked its histogram kind again every 30 s (``app/services/kinds.py``), one query more
    or less depending on where a run falls. The 1 h range, asked at now, still overlaps
    the data."""
    return [(SUMMARY, {"metric_name": DENSE, "time": bench.end}), (RANGE, RANGE_QUESTION)]


async def polling(bench: Bench) -> list[Row]:
    seconds, every = (20, 5) if bench.quick else (60, 5)
    few = await _poll(bench, 10, seconds, every)
    many = await _poll(bench, 100, seconds, every)
    return [
        at_most(
            "5",
            f"100 vs 10 clients polling the status page every {every} s for {seconds} s",
            f"{len(many)} vs {len(few)} upstream queries ({_kinds(many)}; {_kinds(few)})",
            len(many) / len(few),
            1,
        )
    ]


def _kinds(queries: list[LoggedQuery]) -> str:
    """How many instant queries (and of how many texts) and range queries a run sent."""
    instant = [q.query for q in queries if q.step == 0]
    ranges = len(queries) - len(instant)
    return f"{len(instant)} instant of {len(set(instant))} texts, {ranges} range"


async def _poll(bench: Bench, clients: int, seconds: int, every: int) -> list[LoggedQuery]:
    pages = status_questions(bench)
    rng = random.Random(clients)
    with bench.service(f"polling-{clients}") as service:  # the default TTL, 5 s
        async with httpx.AsyncClient(limits=polling_limits(clients), timeout=60) as http:
            # The first answers ask which kind of histogram the metric has (once per metric
            # and process): asked before the count starts, as it is no client's question.
            for path, params in pages:
                await timed_get(http, service.url + path, params)
            # Start on a minute boundary of the wall clock: a TTL slot boundary (the
            # cache's slots are on it), so both runs cover the same slots, and where the
            # range page's 1 m grid moves, so its refreshes (one more query when a new
            # step arrives) fall at the same points of both runs. Phases up to 3 s leave
            # two seconds for a client's two requests, queued behind a hundred others on
            # two cores.
            await asyncio.sleep(60 - time.time() % 60)
            bench.querylog.mark()
            origin = time.time()

            async def client(phase: float) -> None:
                for k in range(seconds // every):
                    await asyncio.sleep(max(0.0, origin + phase + k * every - time.time()))
                    for path, params in pages:
                        await timed_get(http, service.url + path, params)

            await asyncio.gather(*(client(rng.uniform(0.05, 3.0)) for _ in range(clients)))
        return await bench.logged_after()


# ---- 6: range refreshes -------------------------------------------------------------------


async def range_refreshes(bench: Bench) -> list[Row]:
    refreshes = 6
    params = {"metric_name": SPARSE, "duration": "24h", "step": "1m"}
    fractions: list[float] = []
    with bench.service("range", CACHE_TTL_SECONDS="1") as service:
        async with httpx.AsyncClient(timeout=60) as client:
            bench.querylog.mark()
            await timed_get(client, service.url + RANGE, params)
            full = sum(q.points for q in await bench.logged_after())
            for _ in range(refreshes):
                await asyncio.sleep(1.1)  # past the 1 s TTL: the response cache misses
                bench.querylog.mark()
                response = await client.get(service.url + RANGE, params=params)
                fetched = sum(q.points for q in await bench.logged_after(0.3))
                fractions.append(fetched / full)
            merged = response.json()
            fresh = await _fresh_range(client, bench, merged)
    equal = _points(merged) == fresh
    return [
        at_most(
            "6",
            "24 h range at 1 m, refreshed: share of its points fetched again"
            + ("" if equal else " (merged answer DIFFERS from a full query)"),
            f"first {full} points; refreshes at most {max(fractions) * full:.0f}; "
            f"merged answer {'equals' if equal else 'differs from'} a full query",
            max(fractions) if equal else math.inf,
            0.02,
        )
    ]


async def _fresh_range(client: httpx.AsyncClient, bench: Bench, merged: dict) -> dict:
    """The same range straight from Prometheus, in the service's units and shape."""
    params = {
        "query": user_query(0.95, SPARSE),
        "start": merged["start"],
        "end": merged["end"],
        "step": "60",
    }
    response = await client.get(f"{bench.prometheus_url}/api/v1/query_range", params=params)
    out = {}
    for item in response.json()["data"]["result"]:
        points = []
        for stamp, value in item["values"]:
            number = float(value)
            points.append(
                (float(stamp), round(number * 1000, 6) if math.isfinite(number) else None)
            )
        out[item["metric"]["model"]] = points
    return out


def _points(body: dict) -> dict:
    return {
        item["model"]: [(p["timestamp"], p["p95_latency_ms"]) for p in item["data_points"]]
        for item in body["data"]
    }


# ---- 7: memory ---------------------------------------------------------------------------


async def memory(bench: Bench) -> list[Row]:
    distinct = 10_000
    with bench.service("memory", CACHE_TTL_SECONDS="3600") as service:
        baseline = service.rss()
        limits = httpx.Limits(max_connections=16)
        async with httpx.AsyncClient(limits=limits, timeout=60) as client:
            queue = iter(range(distinct))

            async def worker() -> None:
                for i in queue:
                    params = {"metric_name": SPARSE, "time": bench.end - i}
                    await timed_get(client, service.url + P95, params)

            await asyncio.gather(*(worker() for _ in range(16)))
            # The service's own gauge: entries held, fresh or kept for stale-if-error.
            exposition = (await client.get(service.url + "/metrics")).text
        held = _gauge(exposition, "model_latency_cache_entries")
        rss = _settled_rss(service)
    return [
        at_most(
            "7",
            f"resident memory with {distinct:,} distinct cached requests, vs 150 MB",
            f"{rss / MB:.0f} MB (idle {baseline / MB:.0f} MB) holding {held:,.0f} responses",
            rss / (150 * MB) if held >= distinct else math.inf,
            1,
        )
    ]


def _gauge(exposition: str, name: str) -> float:
    for line in exposition.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise RuntimeError(f"{name} missing from /metrics")


def _settled_rss(service: Service) -> int:
    time.sleep(0.5)
    return service.rss()
