"""Circuit breaker, stale-if-error, total timeout, in-flight bound and upstream auth."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from app.breaker import BreakerState, CircuitBreaker
from app.errors import (
    UpstreamBadResponse,
    UpstreamOverloaded,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from app.promql.client import PrometheusClient
from app.settings import Settings
from tests.unit.test_api_contract import URL, FakePrometheus


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_after_threshold_and_probes_after_cooldown():
    clock = Clock()
    breaker = CircuitBreaker(threshold=3, cooldown=10, clock=clock)
    for _ in range(2):
        breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED
    breaker.record_failure()
    # mypy keeps the state narrowed to CLOSED across the call that changes it
    assert breaker.state is BreakerState.OPEN  # type: ignore[comparison-overlap]
    assert not breaker.allow()
    clock.now += 10
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow()  # the one probe
    assert not breaker.allow()  # everyone else still fails fast
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    clock.now += 10
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.allow()


def test_success_resets_the_failure_count():
    breaker = CircuitBreaker(threshold=2, cooldown=10, clock=Clock())
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED


def guarded(handler, *, threshold: int):
    """A client behind a breaker with a still clock, and the requests that reached upstream."""
    calls: list[httpx.Request] = []

    async def wrapped(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return handler(request)

    prom = PrometheusClient(
        httpx.AsyncClient(transport=httpx.MockTransport(wrapped)),
        URL,
        breaker=CircuitBreaker(threshold=threshold, cooldown=10, clock=Clock()),
    )
    return prom, calls


def refuse(_request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("refused")


async def test_circuit_opens_on_connection_errors_and_fails_fast():
    prom, calls = guarded(refuse, threshold=3)
    for _ in range(3):
        with pytest.raises(UpstreamUnavailable):
            await prom.query("q", at=1)
    with pytest.raises(UpstreamOverloaded) as info:
        await prom.query("q", at=1)
    assert info.value.details["retry_after"] == 10
    assert len(calls) == 3


async def test_client_errors_from_prometheus_do_not_open_the_circuit():
    bad = httpx.Response(400, json={"status": "error", "errorType": "bad_data", "error": "x"})
    prom, calls = guarded(lambda _: bad, threshold=2)
    for _ in range(5):
        with pytest.raises(UpstreamBadResponse, match="rejected"):
            await prom.query("q", at=1)
    assert len(calls) == 5
    assert prom.breaker.state is BreakerState.CLOSED


async def test_server_errors_from_prometheus_open_the_circuit():
    prom, _ = guarded(lambda _: httpx.Response(503, text="overloaded"), threshold=2)
    for _ in range(2):
        with pytest.raises(UpstreamBadResponse, match="not JSON"):
            await prom.query("q", at=1)
    assert prom.breaker.state is BreakerState.OPEN


async def test_total_timeout_bounds_a_slow_upstream():
    async def slow(_request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(200)

    prom = PrometheusClient(
        httpx.AsyncClient(transport=httpx.MockTransport(slow)), URL, total_timeout=0.1
    )
    with pytest.raises(UpstreamTimeout):
        await prom.query("q", at=1)


async def test_excess_queries_wait_a_bounded_time_then_get_503():
    release = asyncio.Event()

    async def stuck(_request: httpx.Request) -> httpx.Response:
        await release.wait()
        return httpx.Response(
            200, json={"status": "success", "data": {"resultType": "vector", "result": []}}
        )

    prom = PrometheusClient(
        httpx.AsyncClient(transport=httpx.MockTransport(stuck)),
        URL,
        semaphore=asyncio.Semaphore(1),
        queue_timeout=0.05,
    )
    first = asyncio.create_task(prom.query("q", at=1))
    await asyncio.sleep(0.01)
    with pytest.raises(UpstreamOverloaded, match="in flight"):
        await prom.query("q", at=2)
    release.set()
    assert (await first).items == []


async def test_stale_answer_served_when_prometheus_fails(make_client):
    fake = FakePrometheus()
    up = True

    async def flaky(request: httpx.Request) -> httpx.Response:
        if not up:
            raise httpx.ConnectError("refused")
        return await fake(request)

    settings = Settings(prometheus_url=URL, cache_ttl_seconds=0.05, cache_stale_seconds=60)
    async with make_client(settings, httpx.MockTransport(flaky)) as client:
        fresh = await client.get("/api/metrics/p95/")
        up = False
        await asyncio.sleep(0.1)
        stale = await client.get("/api/metrics/p95/")
        never_seen = await client.get("/api/metrics/p95/?time_range=1m")
    assert fresh.json()["stale"] is False
    assert stale.status_code == 200
    assert stale.headers["x-cache"] == "STALE"
    assert int(stale.headers["age"]) >= 0
    assert stale.json() == {**fresh.json(), "stale": True}
    assert never_seen.status_code == 503


async def test_stale_answers_expire(make_client):
    up = True
    fake = FakePrometheus()

    async def flaky(request: httpx.Request) -> httpx.Response:
        if not up:
            raise httpx.ReadTimeout("slow")
        return await fake(request)

    settings = Settings(prometheus_url=URL, cache_ttl_seconds=0.05, cache_stale_seconds=0.05)
    async with make_client(settings, httpx.MockTransport(flaky)) as client:
        assert (await client.get("/api/metrics/p95/")).status_code == 200
        up = False
        await asyncio.sleep(0.2)
        response = await client.get("/api/metrics/p95/")
    assert response.status_code == 504
    assert response.headers["x-cache"] == "MISS"


async def test_upstream_auth_and_headers_are_sent_but_never_echoed(make_client):
    seen: list[httpx.Request] = []
    fake = FakePrometheus()

    async def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return await fake(request)

    settings = Settings(
        prometheus_url=URL,
        prometheus_bearer_token="s3cret-token",
        prometheus_headers={"X-Scope-OrgID": "tenant-1"},
    )
    assert "s3cret-token" not in repr(settings)
    async with make_client(settings, httpx.MockTransport(record)) as client:
        await client.get("/api/metrics/p95/")
    assert seen[0].headers["authorization"] == "Bearer s3cret-token"
    assert seen[0].headers["x-scope-orgid"] == "tenant-1"


async def test_basic_auth(make_client):
    seen: list[httpx.Request] = []
    fake = FakePrometheus()

    async def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return await fake(request)

    settings = Settings(prometheus_url=URL, prometheus_username="u", prometheus_password="p")
    async with make_client(settings, httpx.MockTransport(record)) as client:
        await client.get("/api/metrics/p95/")
    assert seen[0].headers["authorization"] == "Basic dTpw"


@pytest.mark.parametrize(
    "bad",
    [
        {"label_selector": 'job="a" or vector(1)'},
        {"upstream_connect_timeout_seconds": 20, "upstream_timeout_seconds": 10},
        {"upstream_max_concurrency": 40, "upstream_max_connections": 32},
        {"prometheus_password": "p"},
        {"prometheus_url": "localhost:9090"},
        {"cache_ttl_seconds": -1},
    ],
)
def test_invalid_configuration_is_refused_with_a_message(bad):
    with pytest.raises(ValueError, match=r"\w"):
        Settings(**bad)


async def test_enforced_selector_cannot_be_widened_by_parameters(make_client):
    fake = FakePrometheus()
    settings = Settings(prometheus_url=URL, label_selector='tenant="a"')
    async with make_client(settings, httpx.MockTransport(fake)) as client:
        await client.get("/api/metrics/p95/", params={"model_label": "tenant", "model": "b"})
    [query] = fake.queries()
    assert 'tenant="a"' in query
    assert 'tenant="b"' in query  # both must hold: the filter narrows, never widens
