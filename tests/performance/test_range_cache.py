"""Target 6: a refreshed range asks Prometheus only for new and still-settling steps.

The count of points fetched comes from the start, end and step of every range
query the service sent (counting transport); the merged answer is compared with
the answer of a fresh service that has to ask for the whole range at once.
"""

from __future__ import annotations

from typing import Any

import pytest

from app.promql.range_cache import RangeCache, RangeCachedUpstream
from app.promql.range_grid import Grid, store
from app.promql.upstream import Series
from app.settings import Settings
from tests.performance.conftest import CountingTransport, FakeClock, Running, running
from tests.support.dataset import END

pytestmark = pytest.mark.prometheus

DAY = 24 * 3600
STEP = 60


def fetched_points(transport: CountingTransport) -> int:
    total = 0
    for upstream in transport.seen:
        if upstream.path == "/api/v1/query_range":
            form = upstream.form
            start, end, step = float(form["start"]), float(form["end"]), float(form["step"])
            total += int((end - start) // step) + 1
    return total


def range_params(end: int, length: int = DAY, step: int = STEP) -> dict[str, Any]:
    return {"start": end - length, "end": end, "step": f"{step}s"}


async def get(service: Running, path: str, params: dict[str, Any]) -> dict:
    response = await service.client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def fresh_answer(prometheus, path: str, params: dict[str, Any]) -> dict:
    """The same request to a new service: empty caches, so one full range query."""
    transport = CountingTransport()
    async with running(Settings(prometheus_url=prometheus.url), transport) as service:
        transport.clear()
        body = await get(service, path, params)
    assert fetched_points(transport) == int((params["end"] - params["start"]) // STEP) + 1
    return body


def with_clock(service: Running, clock: FakeClock) -> RangeCache:
    cache = RangeCache(clock=clock)
    upstream = service.state.default_upstream
    assert isinstance(upstream, RangeCachedUpstream)
    upstream.cache = cache
    return cache


async def test_refreshes_fetch_only_new_and_settling_steps(prometheus):
    path = "/api/metrics/p95/range/"
    end = END + 120  # the dataset stops at END: the newest steps are the ones that change
    clock = FakeClock(end + 30)
    transport = CountingTransport()
    settings = Settings(prometheus_url=prometheus.url, cache_ttl_seconds=0)
    async with running(settings, transport) as service:
        with_clock(service, clock)
        transport.clear()
        first = await get(service, path, range_params(end))
        assert fetched_points(transport) == DAY // STEP + 1

        budget = 0.02 * (DAY // STEP + 1)
        answers = []
        for minute in range(5):  # a dashboard refreshing as its range slides forward
            clock.now = end + 60 * minute + 35
            transport.clear()
            answers.append((minute, await get(service, path, range_params(end + 60 * minute))))
            assert 0 < fetched_points(transport) <= budget, minute
            assert len(transport.seen) == 1
    assert first["data"], "the range must hold points, or the comparison proves nothing"
    for minute, merged in answers:
        assert merged == await fresh_answer(prometheus, path, range_params(end + 60 * minute))


async def test_a_longer_range_fetches_only_the_older_part(prometheus):
    path = "/api/metrics/p95/range/"
    end = END - 600
    transport = CountingTransport()
    settings = Settings(prometheus_url=prometheus.url, cache_ttl_seconds=0)
    async with running(settings, transport) as service:
        with_clock(service, FakeClock(end + 3600))  # everything asked for has settled
        await get(service, path, range_params(end, 3600))
        transport.clear()
        again = await get(service, path, range_params(end, 3600))
        assert transport.seen == []  # all settled, all cached
        longer = await get(service, path, range_params(end, 3 * 3600))
        assert fetched_points(transport) == 2 * 3600 // STEP  # only the two older hours
    assert again == await fresh_answer(prometheus, path, range_params(end, 3600))
    assert longer == await fresh_answer(prometheus, path, range_params(end, 3 * 3600))


async def test_an_unaligned_grid_is_its_own_entry_and_still_exact(prometheus):
    path = "/api/metrics/p95/range/"
    end = END - 17  # points at END-17-k*60: a different grid from the aligned one
    transport = CountingTransport()
    settings = Settings(prometheus_url=prometheus.url, cache_ttl_seconds=0)
    async with running(settings, transport) as service:
        cache = with_clock(service, FakeClock(END + 3600))
        await get(service, path, range_params(END, 3600))
        unaligned = await get(service, path, range_params(end, 3600))
        assert len(cache) == 2
    assert unaligned == await fresh_answer(prometheus, path, range_params(end, 3600))


async def test_history_uses_the_range_cache(prometheus):
    transport = CountingTransport()
    settings = Settings(prometheus_url=prometheus.url, cache_ttl_seconds=0)
    async with running(settings, transport) as service:
        transport.clear()
        await get(service, "/api/metrics/history/", {"hours": 24, "step": "1m"})
        first = fetched_points(transport)
        transport.clear()
        await get(service, "/api/metrics/history/", {"hours": 24, "step": "1m"})
        assert fetched_points(transport) <= 0.02 * first


def test_memory_is_bounded_by_bytes_and_keys():
    cache = RangeCache(max_bytes=200_000, max_keys=3)
    grid = Grid.of(0, 600 * 60, 60)
    series = [Series({"model": f"m{i}"}, [(t * 60.0, 1.0) for t in range(601)]) for i in range(5)]
    for n in range(10):
        cache._keep((f"q{n}", grid.step_ms, grid.phase_ms), store(series, grid, 0, 600))
        assert len(cache) <= 3
        assert cache.size_bytes <= 200_000
    assert len(cache) >= 1
