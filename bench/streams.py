"""1,000 browsers on the live stream: one upstream query per interval, bounded memory.

1,000 clients open ``GET /api/metrics/stream/`` with the same parameters at once and
read it for 30 s (15 s with ``--quick``). Every update of a stream is the
``/api/metrics/percentiles/`` answer through the response cache, so the service should
ask Prometheus once per TTL slot (5 s, the interval) whoever listens. Queries are
counted in Prometheus's query log over the TTL slots the run touched; the process's
one histogram-kind probe is counted apart. The service's resident memory is read while
all 1,000 streams are open. Each client must have received at least
``duration // interval - 1`` ``percentiles`` events, or the rows fail loudly.
"""

from __future__ import annotations

import asyncio
import json
import math
import resource
import time

import httpx

from bench.dataset import DENSE
from bench.report import Row, at_most
from bench.targets import MB, Bench

ROW = "9"
CLIENTS = 1000
INTERVAL = 5
STREAM = "/api/metrics/stream/"
PARAMS = {"metric_name": DENSE, "percentiles": "50,95,99", "interval": str(INTERVAL)}
PROBE_TAG = "histogram_kind"  # app/promql/native.py kind_label: only the probe has it
MEMORY_LIMIT = 200 * MB


async def streams(bench: Bench) -> list[Row]:
    seconds = 15 if bench.quick else 30
    # Every stream is a socket on both sides; children (the service) inherit the limit.
    raise_open_files(CLIENTS * 2 + 512)
    # Every client of the benchmark has one address: allow it all the streams.
    per_client = str(CLIENTS)
    with bench.service(
        "streams", CACHE_TTL_SECONDS=str(INTERVAL), STREAM_MAX_PER_CLIENT=per_client
    ) as service:
        idle = service.rss()
        limits = httpx.Limits(max_connections=CLIENTS + 10, max_keepalive_connections=0)
        timeout = httpx.Timeout(60, pool=120)
        async with httpx.AsyncClient(
            base_url=service.url, limits=limits, timeout=timeout, trust_env=False
        ) as http:
            bench.querylog.mark()
            started = time.time()
            deadline = time.monotonic() + seconds
            # Pinned to the end of the backfilled data: asked at "now" the 5 m window would
            # be empty once the backfill and the earlier targets have taken longer than it.
            params = {**PARAMS, "time": str(bench.end)}
            readers = [asyncio.create_task(listen(http, params, deadline)) for _ in range(CLIENTS)]
            await asyncio.sleep(max(0.0, deadline - time.monotonic() - INTERVAL / 2))
            rss = service.rss()  # every stream open, between two updates
            heard = await asyncio.gather(*readers)
            finished = time.time()
        logged = await bench.logged_after()
    counts = [events for events, _ in heard]
    expected = seconds // INTERVAL - 1
    short = [n for n in counts if n < expected]
    assert not short, f"{len(short)} of {CLIENTS} streams got fewer than {expected} events"
    assert min(models for _, models in heard) > 0, "a stream's updates held no models"
    probes = sum(PROBE_TAG in q.query for q in logged)
    answering = len(logged) - probes
    slots = int(finished // INTERVAL) - int(started // INTERVAL) + 1
    return [
        at_most(
            ROW,
            f"{CLIENTS:,} stream clients: upstream queries per interval "
            f"({INTERVAL} s, over {seconds} s; the histogram-kind probe counted apart)",
            f"{answering} queries in {slots} TTL slots touched (+{probes} probe); "
            f"{min(counts)}..{max(counts)} events per client",
            answering / slots,
            1,
        ),
        at_most(
            ROW,
            f"{CLIENTS:,} stream clients: resident memory of the service, vs 200 MB",
            f"{rss / MB:.0f} MB (idle {idle / MB:.0f} MB)",
            rss / MEMORY_LIMIT,
            1,
        ),
    ]


async def listen(
    http: httpx.AsyncClient, params: dict[str, str], deadline: float
) -> tuple[int, int]:
    """``percentiles`` events one stream delivered before ``deadline``, and the fewest
    models one of them held."""
    count, models = 0, []
    async with http.stream("GET", STREAM, params=params) as response:
        if response.status_code != 200:
            body = (await response.aread())[:300]
            raise RuntimeError(f"stream answered {response.status_code}: {body!r}")
        try:
            async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                async for line in response.aiter_lines():
                    if line == "event: percentiles":
                        count += 1
                    elif line.startswith("data: {") and count:
                        models.append(json.loads(line[6:]).get("count", 0))
        except TimeoutError:
            pass
    return count, min(models, default=0)


def raise_open_files(needed: int) -> None:
    """Lift this process's soft RLIMIT_NOFILE to ``needed`` (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        ceiling = hard if hard != resource.RLIM_INFINITY else math.inf
        if ceiling < needed:
            raise RuntimeError(f"open-file limit {hard} is below {needed}: raise `ulimit -Hn`")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
