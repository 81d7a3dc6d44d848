"""A bounded load test of the real service (uvicorn, a real Prometheus) on loopback.

About three thousand requests from fifty concurrent clients, a mix of valid
requests to the five /api/metrics endpoints and hostile ones (bad durations,
point counts, percentiles, 60 model filters, 5 KB values, injection strings,
unknown paths). Every answer must be the status planned for it in
requests_mix.py, every error the JSON error body, never a 500; and the
server's resident memory after the run must stay within a small bound of what
it was after a warm-up round over the same requests.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from harness.processes import Service, uvicorn_app
from harness.prometheus import PrometheusServer
from tests.hardening.requests_mix import INVALID, Planned, valid

pytestmark = pytest.mark.prometheus

CLIENTS = 50
DISTINCT_VALID = 900  # draws of valid requests; about 840 distinct ones, as many cache keys
WARMUP_ROUNDS = 1  # one pass over every distinct request: caches and allocators settle
RUN_REQUESTS = 3000
INVALID_SHARE = 0.3
KEEPALIVE_EXPIRY = 2.0  # below uvicorn's --timeout-keep-alive (5 s), see run()
RUN_TIMEOUT = 300.0  # hard stop for one round, whatever the machine
# The warm-up sends every distinct request once, so the response cache (stale entries are
# kept 300 s) and the range cache already hold every key before the first measurement;
# the run only refreshes them (TTL 1 s). Measured growth is 1-2 MiB; 10 MiB still catches
# a leak of 3.5 KB per request (about one response body) over the 3000.
MAX_RSS_GROWTH = 10 * 2**20


@pytest.fixture(scope="module")
def service(
    prometheus: PrometheusServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    """``uvicorn app.main:app`` as a subprocess, configured only through its environment."""
    log = tmp_path_factory.mktemp("service") / "uvicorn.log"
    env = {"PROMETHEUS_URL": prometheus.url, "CACHE_TTL_SECONDS": "1"}
    with uvicorn_app(log, env) as running:
        yield running


def plan(rng: random.Random, distinct: list[Planned], count: int) -> list[Planned]:
    """``count`` requests: valid ones drawn from ``distinct``, hostile ones mixed in."""
    return [
        rng.choice(INVALID) if rng.random() < INVALID_SHARE else rng.choice(distinct)
        for _ in range(count)
    ]


def problems_with(planned: Planned, response: httpx.Response) -> str | None:
    """Why ``response`` is not the answer planned for ``planned`` (None when it is)."""
    if response.status_code != planned.expected:
        return f"{planned.url[:200]}: {response.status_code} {response.text[:300]}"
    try:
        body = response.json()
    except ValueError:
        return f"{planned.url[:200]}: not JSON: {response.text[:300]}"
    if planned.expected == 200:
        ok = body.get("status") == "success" and body.get("count") == len(body.get("data", []))
    else:
        ok = (
            set(body) == {"status", "error", "details"}
            and body["status"] == "error"
            and isinstance(body["error"], str)
            and isinstance(body["details"], dict)
        )
    return None if ok else f"{planned.url[:200]}: unexpected body {response.text[:300]}"


@dataclass
class Tally:
    statuses: Counter[int] = field(default_factory=Counter)
    cache: Counter[str] = field(default_factory=Counter)  # X-Cache of the 200s
    with_data: int = 0  # 200s that name at least one model
    problems: list[str] = field(default_factory=list)

    def record(self, planned: Planned, response: httpx.Response) -> None:
        self.statuses[response.status_code] += 1
        if (problem := problems_with(planned, response)) is not None:
            self.problems.append(problem)
        elif response.status_code == 200:
            self.cache[response.headers.get("x-cache", "none")] += 1
            self.with_data += response.json()["count"] > 0


async def run(url: str, requests: list[Planned]) -> Tally:
    """Send ``requests`` from CLIENTS concurrent clients and tally the answers."""
    queue: asyncio.Queue[Planned] = asyncio.Queue()
    for planned in requests:
        queue.put_nowait(planned)
    tally = Tally()
    # httpx keeps idle connections 5 s by default, exactly uvicorn's keep-alive timeout: a
    # request sent as the server closes an idle connection then fails with ReadError.
    limits = httpx.Limits(max_connections=CLIENTS, keepalive_expiry=KEEPALIVE_EXPIRY)

    async def client(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            planned = queue.get_nowait()
            try:
                response = await http.get(planned.url)
            except httpx.HTTPError as exc:  # no answer at all: as wrong as a 500
                tally.problems.append(f"{planned.url[:200]}: {exc!r}")
                continue
            tally.record(planned, response)

    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60, trust_env=False) as http:
        async with asyncio.timeout(RUN_TIMEOUT):
            await asyncio.gather(*(client(http) for _ in range(CLIENTS)))
    return tally


async def test_mixed_load_keeps_every_contract_and_memory_flat(service: Service) -> None:
    rng = random.Random(20240601)
    distinct = list({p.url: p for p in (valid(rng) for _ in range(DISTINCT_VALID))}.values())
    warmup = [*distinct, *INVALID] * WARMUP_ROUNDS
    rng.shuffle(warmup)
    at_start = service.rss()

    first = await run(service.url, warmup)
    assert not first.problems, first.problems[:10]
    before = service.rss()

    tally = await run(service.url, plan(rng, distinct, RUN_REQUESTS))
    after = service.rss()

    mib = [f"{rss / 2**20:.1f}" for rss in (at_start, before, after)]
    print(f"\n{dict(tally.statuses)} {dict(tally.cache)}; RSS MiB start/warm/end {mib}")
    assert not tally.problems, (tally.problems[:10], service.log_tail())
    assert sum(tally.statuses.values()) == RUN_REQUESTS
    assert 500 not in tally.statuses
    assert tally.statuses[400] > 0
    assert tally.statuses[404] > 0
    # Most valid requests find models in the dataset, and the 1 s TTL makes both
    # hits and misses (refreshes) happen during the run.
    assert tally.with_data > tally.statuses[200] / 2
    assert tally.cache["HIT"] > 0
    assert tally.cache["MISS"] > 0
    assert service.process.poll() is None
    assert "Traceback" not in service.log_tail(), service.log_tail()
    assert after - before < MAX_RSS_GROWTH, mib
