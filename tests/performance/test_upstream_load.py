"""Targets 4 and 5: upstream queries depend on distinct questions and the TTL, not on clients.

Prometheus sits behind a counting transport; the counts are exact, never timings.
The polling simulation runs on a fake clock, so a minute of polling takes no minute.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import pytest

from app.cache.core import ResponseCache
from app.cache.store import LocalStore
from app.settings import Settings
from tests.performance.conftest import CountingTransport, FakeClock, running
from tests.support.dataset import END

pytestmark = pytest.mark.prometheus

STATUS_PAGE: tuple[
    tuple[str, dict[str, str]], ...
] = (  # what the status page polls (app/static/status.js)
    ("/api/metrics/", {}),
    ("/api/metrics/p95/range/", {"duration": "1h", "step": "1m"}),
)


def settings_for(prometheus, ttl: float = 5.0) -> Settings:
    return Settings(prometheus_url=prometheus.url, cache_ttl_seconds=ttl)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/metrics/p95/", {}),
        ("/api/metrics/p95/", {"time": END}),
        ("/api/metrics/percentiles/", {"percentiles": "50,95,99"}),
        ("/api/metrics/", {}),
        ("/api/metrics/p95/range/", {"duration": "3h", "step": "1m"}),
        ("/api/metrics/history/", {"hours": 6}),
    ],
)
async def test_500_identical_requests_make_one_upstream_query(prometheus, path, params):
    transport = CountingTransport()
    async with running(settings_for(prometheus), transport) as service:
        transport.clear()
        responses = await asyncio.gather(
            *(service.client.get(path, params=params) for _ in range(500))
        )
    assert {r.status_code for r in responses} == {200}
    assert len({r.content for r in responses}) == 1  # everyone got the one answer
    queries = transport.queries()
    assert len(queries) == 1, queries
    assert Counter(r.headers["x-cache"] for r in responses)["MISS"] == 500  # all were cold


async def test_concurrent_different_questions_each_ask_once(prometheus):
    """A cold burst over several endpoints: one query per distinct expression and endpoint."""
    transport = CountingTransport()
    async with running(settings_for(prometheus), transport) as service:
        transport.clear()
        requests = [(path, params) for path, params in STATUS_PAGE for _ in range(250)]
        random.Random(4).shuffle(requests)
        responses = await asyncio.gather(
            *(service.client.get(path, params=params) for path, params in requests)
        )
    assert {r.status_code for r in responses} == {200}
    assert sorted(u.path for u in transport.seen) == ["/api/v1/query", "/api/v1/query_range"]


async def poll(prometheus, clients: int, *, seconds: float = 60, every: float = 5) -> int:
    """``clients`` status pages polling every ``every`` s for ``seconds``; upstream queries."""
    clock = FakeClock()
    transport = CountingTransport()
    async with running(settings_for(prometheus), transport) as service:
        service.state.cache = ResponseCache(LocalStore(ttl=5.0, max_entries=1000, clock=clock))
        transport.clear()
        rng = random.Random(clients)
        offsets = [rng.uniform(0, every) for _ in range(clients)]
        schedule = Counter(o + k * every for o in offsets for k in range(int(seconds / every)))
        start = clock.now
        for tick, due in sorted(schedule.items()):
            clock.now = start + tick
            responses = await asyncio.gather(
                *(
                    service.client.get(path, params=params)
                    for _ in range(due)
                    for path, params in STATUS_PAGE
                )
            )
            assert {r.status_code for r in responses} == {200}
    return len(transport.queries())


async def test_polling_load_does_not_grow_with_clients(prometheus):
    few = await poll(prometheus, 10)
    many = await poll(prometheus, 100)
    # Each of the two questions is asked at most once per TTL (5 s) in 60 s, plus the first.
    ceiling = len(STATUS_PAGE) * (60 // 5 + 1)
    assert many <= few <= ceiling
    assert many >= len(STATUS_PAGE) * (60 // 5 - 1)  # and the cache does expire: answers refresh
