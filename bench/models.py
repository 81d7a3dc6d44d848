"""The model scorecard at 2,000 vLLM models: a miss next to Prometheus answering the same
queries (its floor) with the service's CPU per miss, and 100 pollers costing one set of
queries per TTL slot.

Data (``write``): vLLM's names and labels (``model_name``, ``engine``), one series per model
and bucket (12 buckets per histogram, one engine, each model on a server of its own:
``instance_of``, bench/dataset.py), its four latency histograms, two token
counters and ``vllm:request_success_total`` for five finished reasons, every 15 s for the
last ten minutes before ``end``.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from pathlib import Path

import httpx

from bench.dataset import instance_of
from bench.load import Instants, paired_at, timed_get
from bench.report import Row, at_most
from harness.processes import Service

MODELS = 2000
MINUTES = 10
INTERVAL = 15
SCORECARD = "/api/models/"
HISTOGRAMS = {
    "vllm:e2e_request_latency_seconds": (0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0),
    "vllm:time_to_first_token_seconds": (
        0.01,
        0.02,
        0.04,
        0.06,
        0.08,
        0.1,
        0.25,
        0.5,
        1.0,
        2.5,
        5.0,
    ),
    "vllm:inter_token_latency_seconds": (
        0.01,
        0.025,
        0.05,
        0.075,
        0.1,
        0.15,
        0.2,
        0.3,
        0.5,
        1.0,
        2.5,
    ),
    "vllm:request_queue_time_seconds": (0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0),
}
COUNTERS = ("vllm:prompt_tokens_total", "vllm:generation_tokens_total")
REASONS = ("stop", "length", "abort", "error", "repetition")


def write(path: Path, end: int, seed: int = 22) -> Path:
    """OpenMetrics for promtool: every family together, each series in time order."""
    rng = random.Random(seed)
    stamps = range(end - MINUTES * 60, end + 1, INTERVAL)
    names = [f"org/model-{n:04d}" for n in range(MODELS)]
    with path.open("w") as out:
        for metric, bounds in HISTOGRAMS.items():
            out.write(f"# TYPE {metric} histogram\n")
            for n, model in enumerate(names):
                weights = [rng.randint(0, 4) for _ in range(len(bounds) + 1)]
                out.writelines(_histogram(metric, _labels(n, model), bounds, weights, stamps))
        for counter in (*COUNTERS, "vllm:request_success_total"):
            out.write(f"# TYPE {counter} unknown\n")
            reasons = REASONS if counter.startswith("vllm:request_success") else ("",)
            for n, model in enumerate(names):
                for reason in reasons:
                    extra = f',finished_reason="{reason}"' if reason else ""
                    labels = f"{{{_labels(n, model)}{extra}}}"
                    step = rng.randint(0, 50)
                    out.writelines(
                        f"{counter}{labels} {i * step} {t}\n" for i, t in enumerate(stamps)
                    )
        out.write("# EOF\n")
    return path


def _labels(n: int, model: str) -> str:
    return f'model_name="{model}",engine="0",instance="{instance_of(n)}"'


def _histogram(metric, labels, bounds, weights, stamps):  # type: ignore[no-untyped-def]
    for i, stamp in enumerate(stamps):
        cumulative = 0
        for bound, weight in zip([*bounds, "+Inf"], weights, strict=True):
            cumulative += weight * i
            yield f'{metric}_bucket{{{labels},le="{bound}"}} {cumulative} {stamp}\n'


def queries(window: str = "5m") -> list[str]:
    """What the service sends for the vLLM profile with three percentiles, written out."""
    rates = [
        f"sum by (model_name, le) (rate({metric}_bucket{{}}[{window}]))" for metric in HISTOGRAMS
    ]
    counters = [
        f"sum by (model_name) (rate({name}{{}}[{window}]))"
        for name in (*COUNTERS, "vllm:request_success_total")
    ]
    whole = f"sum by (model_name) (rate(vllm:request_success_total{{}}[{window}]))"
    part = (
        "sum by (model_name) (rate(vllm:request_success_total"
        f'{{finished_reason=~"length|stop"}}[{window}]))'
    )
    return [*rates, *counters, f"({part} or (0 * {whole})) / {whole}"]


async def scorecard(bench) -> list[Row]:  # type: ignore[no-untyped-def]
    rounds = 6 if bench.quick else 16
    with bench.service("models", MODEL_PROFILE="vllm", CACHE_TTL_SECONDS="0") as service:
        async with httpx.AsyncClient(timeout=300) as client:
            miss = await _misses(bench, client, service, rounds)
    with bench.service("models-polling", MODEL_PROFILE="vllm") as service:  # TTL 5 s
        polled = await _pollers(bench, service.url)
    return [miss, polled]


async def _misses(bench, client: httpx.AsyncClient, process: Service, rounds: int) -> Row:  # type: ignore[no-untyped-def]
    """Misses paired with their queries sent at once; every request at an instant of its own."""
    sent = queries()
    instants = Instants(bench.end - 30)
    engine: list[float] = []  # Prometheus's CPU seconds per set of the floor's queries

    async def prometheus(at: int) -> float:
        used = bench.engine_cpu()
        started = time.perf_counter()
        await asyncio.gather(
            *(
                timed_get(client, f"{bench.prometheus_url}/api/v1/query", {"query": q, "time": at})
                for q in sent
            )
        )
        elapsed = time.perf_counter() - started
        engine.append(bench.engine_cpu() - used)
        return elapsed

    async def service(at: int) -> float:
        return await timed_get(client, process.url + SCORECARD, {"time": at})

    # Warm-up: metric names and histogram kinds, asked once per process.
    await paired_at(process, service, prometheus, instants.take(2))
    bench.querylog.mark()
    await service(instants.take(1)[0])
    logged = sorted(q.query for q in await bench.logged_after())
    if logged != sorted(sent):
        raise RuntimeError(f"the service sent other queries than measured:\n{logged}")
    engine.clear()
    found = await paired_at(process, service, prometheus, instants.take(rounds))
    # The floor's own CPU: on two cores an engine busy on both leaves the service's work
    # no idle core to run on (docs/performance.md).
    cpu = statistics.median(engine)
    cores = cpu / statistics.median(found.theirs)
    return at_most(
        "22",
        f"/api/models/ at {MODELS:,} vLLM models: a miss vs Prometheus answering its "
        f"{len(sent)} queries sent at once",
        f"{found.described()}; Prometheus {cpu * 1000:.0f} ms CPU per set ({cores:.2f} cores)",
        found.ratio,
        1.1,
    )


async def _pollers(bench, url: str) -> Row:  # type: ignore[no-untyped-def]
    limits = httpx.Limits(max_connections=100)
    async with httpx.AsyncClient(limits=limits, timeout=300) as client:
        await timed_get(client, url + SCORECARD, {})  # names and kinds, asked once
        await asyncio.sleep(5 - time.time() % 5 + 0.05)  # the start of a TTL slot
        bench.querylog.mark()
        await asyncio.gather(*(timed_get(client, url + SCORECARD, {}) for _ in range(100)))
        logged = len(await bench.logged_after())
    return at_most(
        "22",
        "/api/models/: 100 pollers in one TTL slot vs one set of queries",
        f"{logged} upstream queries for {len(queries())} signals",
        logged / len(queries()),
        1,
    )
