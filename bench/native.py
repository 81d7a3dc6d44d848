"""Native histograms: three percentiles against one, and what the three cost upstream.

A Prometheus of its own (native histograms and the remote-write receiver on, an empty
TSDB, its own query log) is fed by remote write 200 models of native histograms, one
every 15 s over the last half hour. The service is asked with ``histogram=native``
(no kind probe) for three percentiles and for one, each at its own evaluation time so
every request is a miss; the paired median ratio is row 10. The service sends the three
as one query of three tagged ``histogram_quantile`` joined with ``or``, which
Prometheus evaluates arm by arm: the rate of every series once per percentile. The
query log's evaluation times show that cost beside the ratio.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from bench.load import paired, paired_ratio, timed_get
from bench.processes import prometheus_config
from bench.querylog import QueryLog
from bench.report import Row, at_most
from bench.targets import PERCENTILES, Bench
from harness.remote_write import HistogramSeries, NativeHistogram, NativePrometheus, push

ROW = "10"
METRIC = "bench_native_seconds"
MODELS = 200
STEP = 15  # seconds between samples
SPAN = 1800  # the last half hour: inside what a fresh TSDB's head accepts
SCHEMA = 3  # 8 buckets per power of two, as client libraries default to
PER_STEP = 12  # observations per model between two samples


async def native(bench: Bench) -> list[Row]:
    rounds = 30 if bench.quick else 60
    workdir = bench.workdir / "native"
    workdir.mkdir(exist_ok=True)
    log_path = workdir / "query.log"
    end = int(time.time()) // STEP * STEP - STEP
    with NativePrometheus.empty(workdir, config=prometheus_config(log_path)) as prom:
        push_models(prom.url, end)
        querylog = QueryLog(log_path)
        with bench.service("native", PROMETHEUS_URL=prom.url, CACHE_TTL_SECONDS="3600") as svc:
            async with httpx.AsyncClient(timeout=60, trust_env=False) as http:

                def ask(percentiles: str, offset: int) -> Callable[[int], Awaitable[float]]:
                    async def measure(i: int) -> float:
                        params = question(percentiles, end - 60 - offset - i)
                        return await timed_get(http, svc.url + PERCENTILES, params)

                    return measure

                await check_answer(http, svc.url, end)
                await paired(ask("50,95,99", 600), ask("95", 600), 10)  # warm-up
                offset = log_path.stat().st_size
                three, one = await paired(ask("50,95,99", 0), ask("95", 0), rounds)
                await asyncio.sleep(0.5)  # let Prometheus write its log lines
                evaluation = eval_seconds(log_path, offset)
                per_request = await queries_per_request(http, svc.url, querylog, end)
    ms = statistics.median
    quantiles = max(per_request)
    return [
        at_most(
            ROW,
            "native histograms: 3 percentiles vs 1, cache misses (one query of three tagged "
            "histogram_quantile: Prometheus evaluates the rate once per percentile)",
            f"median {ms(three) * 1000:.1f} ms vs {ms(one) * 1000:.1f} ms; Prometheus's "
            f"evaluation {evaluation[3] * 1000:.1f} ms vs {evaluation[1] * 1000:.1f} ms",
            paired_ratio(three, one),
            3.3,
        ),
        at_most(
            ROW,
            "native histograms: upstream queries for 3 percentiles",
            f"{len(per_request)} lone cold requests for {MODELS} models: at most "
            f"{quantiles[0]} logged each, holding {quantiles[1]} histogram_quantile",
            quantiles[0],
            1,
        ),
    ]


def question(percentiles: str, at: int) -> dict[str, str | int]:
    return {"metric_name": METRIC, "histogram": "native", "percentiles": percentiles, "time": at}


async def check_answer(http: httpx.AsyncClient, url: str, end: int) -> None:
    """Every model answered with three numbers, so no row passes on empty answers."""
    response = await http.get(url + PERCENTILES, params=question("50,95,99", end - 30))
    body = response.json()
    assert response.status_code == 200, response.text[:300]
    assert body["count"] == MODELS, f"{body['count']} of {MODELS} models answered"
    values = body["data"][0]["percentiles"]
    assert all(v is not None for v in values.values()), values


async def queries_per_request(
    http: httpx.AsyncClient, url: str, querylog: QueryLog, end: int
) -> list[tuple[int, int]]:
    """(queries logged, ``histogram_quantile`` they hold) for five lone cold requests."""
    found = []
    for i in range(5):
        querylog.mark()
        await timed_get(http, url + PERCENTILES, question("50,95,99", end - 1200 - i))
        await asyncio.sleep(0.5)  # let Prometheus write its log line
        logged = querylog.since_mark()
        found.append((len(logged), sum(q.query.count("histogram_quantile(") for q in logged)))
    return found


def eval_seconds(log_path: Path, offset: int) -> dict[int, float]:
    """Median evaluation time Prometheus logged after ``offset``, by number of
    ``histogram_quantile`` in the query."""
    with log_path.open("rb") as log:
        log.seek(offset)
        lines = log.read().decode().splitlines()
    by_arms: dict[int, list[float]] = {1: [], 3: []}
    for line in filter(None, lines):
        entry = json.loads(line)
        arms = entry["params"]["query"].count("histogram_quantile(")
        by_arms.setdefault(arms, []).append(entry["stats"]["timings"]["evalTotalTime"])
    return {arms: statistics.median(values or [math.nan]) for arms, values in by_arms.items()}


# ---- the data --------------------------------------------------------------------------


def push_models(url: str, end: int, seed: int = 17) -> None:
    """200 models' native histograms every 15 s over the half hour before ``end``."""
    rng = random.Random(seed)
    models = [model_series(f"model-{n:03d}", end, rng) for n in range(MODELS)]
    for first in range(0, MODELS, 25):
        push(url, models[first : first + 25], timeout=120)


def model_series(model: str, end: int, rng: random.Random) -> HistogramSeries:
    """Cumulative histograms of lognormal latencies centred somewhere between 50 ms and 1 s."""
    mu, sigma = rng.uniform(math.log(0.05), 0.0), rng.uniform(0.3, 0.8)
    buckets: dict[int, int] = {}
    total, count = 0.0, 0
    snapshots = []
    for stamp in range(end - SPAN, end + 1, STEP):
        for _ in range(PER_STEP):
            value = rng.lognormvariate(mu, sigma)
            index = math.ceil(math.log2(value) * (1 << SCHEMA))
            buckets[index] = buckets.get(index, 0) + 1
            total += value
            count += 1
        snapshots.append(
            NativeHistogram(stamp * 1000, SCHEMA, count, total, positive=dict(buckets))
        )
    labels = {"__name__": METRIC, "model": model, "instance": "i0", "job": "bench"}
    return HistogramSeries(labels, snapshots)
