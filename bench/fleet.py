"""Three replicas sharing one Redis cost Prometheus no more than one replica does.

The same 300 status pages (both questions every 5 s, the same random phases) poll
first three replicas with ``SHARED_CACHE_URL`` (100 pages each), then one replica
alone (a plain deployment, no Redis); both runs start on a TTL slot boundary of the
wall clock, which is what the slots are multiples of. Upstream queries are counted in
Prometheus's own query log.

Each process asks once per metric which kind of histogram it has (app/services/kinds.py,
kept 300 s): three probes in the fleet, one alone. Those are counted apart (they carry
the ``histogram_kind`` tag) and left out of the ratio, which compares only the queries
that answer requests.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from contextlib import ExitStack

import httpx

from bench.load import polling_limits, timed_get
from bench.querylog import LoggedQuery
from bench.report import Row, at_most
from bench.targets import Bench, status_questions
from harness.processes import Service
from harness.redis import RedisServer

ROW = "8"
REPLICAS = 3
PER_REPLICA = 100
EVERY = 5  # seconds between a page's polls, and the cache TTL
PROBE_TAG = "histogram_kind"  # app/promql/native.py kind_label: only the probe has it


async def fleet(bench: Bench) -> list[Row]:
    seconds = 30 if bench.quick else 60
    clients = REPLICAS * PER_REPLICA
    with RedisServer(bench.workdir) as redis, ExitStack() as stack:
        shared = {
            "SHARED_CACHE_URL": redis.url,
            "SHARED_CACHE_PREFIX": f"bench-{uuid.uuid4().hex[:8]}:",
            "CACHE_TTL_SECONDS": str(EVERY),
        }
        replicas: list[Service] = [
            stack.enter_context(bench.service(f"fleet-{n}", **shared)) for n in range(REPLICAS)
        ]
        spread = await poll(bench, [r.url for r in replicas], clients, seconds)
    with bench.service("fleet-single", CACHE_TTL_SECONDS=str(EVERY)) as single:
        alone = await poll(bench, [single.url], clients, seconds)
    answering, probes = split(spread)
    answering_alone, probes_alone = split(alone)
    return [
        at_most(
            ROW,
            f"{REPLICAS} replicas x {PER_REPLICA} polling clients vs 1 replica: upstream "
            "queries (those answering requests; the once-per-process histogram-kind probe "
            "counted apart)",
            f"{answering} vs {answering_alone} queries over {seconds} s "
            f"(probes {probes} vs {probes_alone})",
            answering / answering_alone,
            1,
        )
    ]


async def poll(bench: Bench, urls: list[str], clients: int, seconds: int) -> list[LoggedQuery]:
    """``clients`` status pages spread over ``urls``; the queries Prometheus logged."""
    questions = status_questions(bench)
    rng = random.Random(clients)  # the same phases for every run
    phases = [rng.uniform(0.05, 4.5) for _ in range(clients)]
    limits = polling_limits(clients)
    async with httpx.AsyncClient(limits=limits, timeout=60, trust_env=False) as http:
        await asyncio.sleep(EVERY - time.time() % EVERY)  # a TTL slot boundary
        bench.querylog.mark()
        origin = time.monotonic()

        async def page(url: str, phase: float) -> None:
            for k in range(seconds // EVERY):
                await asyncio.sleep(max(0.0, origin + phase + k * EVERY - time.monotonic()))
                for path, params in questions:
                    await timed_get(http, url + path, params)

        await asyncio.gather(*(page(urls[i % len(urls)], p) for i, p in enumerate(phases)))
        logged = await bench.logged_after()
        for path, params in questions:  # answers with data, or the count means little
            answer = (await http.get(urls[0] + path, params=params)).json()
            assert answer["count"] > 0, f"{path} answered no models: {answer}"
    return logged


def split(logged: list[LoggedQuery]) -> tuple[int, int]:
    """(queries answering requests, histogram-kind probes)."""
    probes = sum(PROBE_TAG in q.query for q in logged)
    return len(logged) - probes, probes
