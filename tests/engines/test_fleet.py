"""Replicas sharing one Redis (SHARED_CACHE_URL) in front of one real Prometheus.

Three service processes, each started as a deployment starts it (uvicorn, configured
only through the environment), and a WORKERS=2 process started by scripts/serve.sh.
Upstream queries are counted from each process's own /metrics
(``model_latency_upstream_queries_total``), summed over the fleet.

Every question is asked at its own evaluation time (``fresh_question``), so no test
sees another's answers; entries live in TTL slots on the wall clock, so a test that
counts queries starts clear of a slot's end (``clear_of_slot_end``).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from harness.processes import ROOT, Service, free_port, stop_process, uvicorn_app, wait_for_http
from harness.prometheus import PrometheusServer
from harness.redis import REDIS_SERVER, RedisServer
from tests.conftest import require_binary
from tests.support.dataset import END

pytestmark = pytest.mark.prometheus

TTL = 600
P95 = "/api/metrics/p95/"
QUERIES = "model_latency_upstream_queries"
_asked = itertools.count(1)


def fresh_question() -> dict[str, str]:
    """Parameters no other request in this module uses: one more cache key, one query.

    A second apart, so every question stays inside the dataset's three hours.
    """
    return {"time": str(END - next(_asked)), "model": "gpt-4"}


def clear_of_slot_end(seconds: float = 20.0) -> None:
    """Sleep past the end of the TTL slot if it is near, so entries stay fresh throughout."""
    left = TTL - time.time() % TTL
    if left < seconds:
        time.sleep(left + 0.2)


def service_env(prometheus: PrometheusServer, redis: RedisServer, prefix: str) -> dict[str, str]:
    return {
        "PROMETHEUS_URL": prometheus.url,
        "SHARED_CACHE_URL": redis.url,
        "SHARED_CACHE_PREFIX": prefix,
        "CACHE_TTL_SECONDS": str(TTL),
        # The default 0.25 s bounds each Redis call including the event loop's own delay;
        # on a busy CI host a burst of 100 requests per process overruns it, and every
        # overrun is (by design) one more render. These tests count single-flight, not
        # that fallback, so they allow more.
        "SHARED_CACHE_TIMEOUT_SECONDS": "2",
    }


@pytest.fixture(scope="module")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A Redis of this module's own: the outage tests stop and restart it."""
    require_binary(REDIS_SERVER)
    server = RedisServer(tmp_path_factory.mktemp("fleet-redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def replicas(
    prometheus: PrometheusServer, redis: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Service]]:
    workdir = tmp_path_factory.mktemp("fleet")
    env = service_env(prometheus, redis, f"fleet-{uuid.uuid4().hex[:8]}:")
    with ExitStack() as stack:
        services = [
            stack.enter_context(uvicorn_app(workdir / f"replica-{name}.log", env)) for name in "abc"
        ]
        for service in services:
            warm_up(service.url)
        yield services


def warm_up(url: str, client: httpx.Client | None = None) -> None:
    """Render one question of a process's own, so its once-per-metric histogram-kind
    probe (app/services/kinds.py, 300 s) is not counted as a client's query later."""
    answer = (client or httpx).get(url + P95, params=fresh_question(), timeout=15)
    assert answer.status_code == 200, answer.text


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=100)
    async with httpx.AsyncClient(timeout=15, limits=limits, trust_env=False) as http:
        yield http


def metric_sum(exposition: str, family: str, **labels: str) -> float:
    """The sum of a family's samples (``_total`` for counters) whose labels match."""
    return sum(
        sample.value
        for found in text_string_to_metric_families(exposition)
        if found.name == family
        for sample in found.samples
        if sample.name in (family, family + "_total")
        and all(sample.labels.get(name) == value for name, value in labels.items())
    )


async def upstream_queries(client: httpx.AsyncClient, services: list[Service]) -> float:
    scrapes = await asyncio.gather(*(client.get(s.url + "/metrics") for s in services))
    return sum(metric_sum(scrape.text, QUERIES) for scrape in scrapes)


async def shared_calls(client: httpx.AsyncClient, services: list[Service]) -> dict[str, float]:
    """Redis calls by ``operation/outcome``, summed over the fleet: a failure's context."""
    calls: dict[str, float] = {}
    for service in services:
        scrape = (await client.get(service.url + "/metrics")).text
        for family in text_string_to_metric_families(scrape):
            if family.name == "model_latency_shared_cache_calls":
                for sample in family.samples:
                    name = f"{sample.labels['operation']}/{sample.labels['outcome']}"
                    calls[name] = calls.get(name, 0) + sample.value
    return calls


async def ask(client: httpx.AsyncClient, service: Service, question: dict[str, str]):
    return await client.get(service.url + P95, params=question)


async def ask_everywhere(
    client: httpx.AsyncClient, services: list[Service], questions: list[dict[str, str]]
) -> list[httpx.Response]:
    return await asyncio.gather(
        *(ask(client, service, q) for q in questions for service in services)
    )


async def sharing_resumes(client: httpx.AsyncClient, replicas: list[Service]) -> float:
    """Seconds until a new question rendered on one replica is a HIT on another."""
    started = time.monotonic()
    while time.monotonic() - started < 15:
        question = fresh_question()
        assert (await ask(client, replicas[0], question)).status_code == 200
        if (await ask(client, replicas[1], question)).headers["X-Cache"] == "HIT":
            return time.monotonic() - started
        await asyncio.sleep(0.1)
    pytest.fail("sharing did not resume within 15 s of Redis coming back")


def all_ok(answers: list[httpx.Response]) -> bool:
    failed = [answer for answer in answers if answer.status_code != 200]
    assert not failed, f"{len(failed)} failed, e.g. {failed[0].status_code}: {failed[0].text}"
    return True


async def test_300_identical_cold_requests_over_3_replicas_cost_one_query(client, replicas):
    clear_of_slot_end()
    question = fresh_question()
    before = await upstream_queries(client, replicas)
    answers = await asyncio.gather(*(ask(client, replicas[i % 3], question) for i in range(300)))
    assert all_ok(answers)
    assert len({answer.content for answer in answers}) == 1
    spent = await upstream_queries(client, replicas) - before
    assert spent == 1, await shared_calls(client, replicas)


async def test_an_answer_rendered_on_one_replica_is_a_hit_on_the_others(client, replicas):
    clear_of_slot_end()
    question = fresh_question()
    first = await ask(client, replicas[0], question)
    assert first.headers["X-Cache"] == "MISS"
    for other in replicas[1:]:
        again = await ask(client, other, question)
        assert again.headers["X-Cache"] == "HIT"
        assert again.content == first.content
        assert "Age" in again.headers


async def test_20_questions_asked_on_every_replica_cost_20_queries(client, replicas):
    clear_of_slot_end()
    questions = [fresh_question() for _ in range(20)]
    before = await upstream_queries(client, replicas)
    answers = await ask_everywhere(client, replicas, questions)
    assert all_ok(answers)
    spent = await upstream_queries(client, replicas) - before
    assert spent == 20, await shared_calls(client, replicas)


async def test_health_reports_the_shared_cache_and_readiness_ignores_it(client, replicas, redis):
    # /health as a whole is 503 while a check is degraded; readiness asks Prometheus only.
    up = (await client.get(replicas[0].url + "/health")).json()
    assert up["checks"]["shared_cache"]["status"] == "healthy"
    redis.stop()
    try:
        down = (await client.get(replicas[0].url + "/health")).json()
        assert down["checks"]["shared_cache"]["status"] == "degraded"
        assert down["status"] != "healthy"
        assert (await client.get(replicas[0].url + "/health/ready")).status_code == 200
    finally:
        redis.start()
    await sharing_resumes(client, replicas)


async def test_with_redis_stopped_mid_run_every_replica_keeps_answering(client, replicas, redis):
    known = fresh_question()
    assert (await ask(client, replicas[0], known)).status_code == 200
    failed: list[httpx.Response] = []
    answered: list[int] = []
    live_seconds: list[float] = []

    async def load(rounds: int) -> None:
        for _ in range(rounds):
            questions = [known, fresh_question()]  # answered ones, and ones to render
            answers = await ask_everywhere(client, replicas, questions)
            failed.extend(answer for answer in answers if answer.status_code != 200)
            answered.append(len(answers))
            for service in replicas:
                started = time.monotonic()
                assert (await client.get(service.url + "/health/live")).status_code == 200
                live_seconds.append(time.monotonic() - started)
            await asyncio.sleep(0.05)

    running = asyncio.create_task(load(40))
    await asyncio.sleep(0.5)
    try:
        await asyncio.to_thread(redis.stop)
        await running
    finally:
        if redis.process is None:
            await asyncio.to_thread(redis.start)
    assert all_ok(failed)
    assert sum(answered) == 40 * 6
    assert max(live_seconds) < 1.0
    await sharing_resumes(client, replicas)


async def test_after_redis_restarts_sharing_resumes_within_seconds(client, replicas, redis):
    redis.stop()
    try:
        for service in replicas:  # every replica finds Redis gone (and opens its breaker)
            for _ in range(4):
                assert (await ask(client, service, fresh_question())).status_code == 200
    finally:
        redis.start()
    assert await sharing_resumes(client, replicas) < 5.0


def pinned_clients(
    url: str, workers: int, stack: ExitStack, within: float = 20.0
) -> list[httpx.Client]:
    """One kept-alive connection per worker process (told apart by /health/live's pid)."""
    by_pid: dict[int, httpx.Client] = {}
    deadline = time.monotonic() + within
    while len(by_pid) < workers and time.monotonic() < deadline:
        limits = httpx.Limits(max_connections=1)
        pinned = stack.enter_context(httpx.Client(base_url=url, limits=limits, timeout=15))
        by_pid.setdefault(pinned.get("/health/live").json()["pid"], pinned)
    assert len(by_pid) == workers, f"connections reached only workers {sorted(by_pid)}"
    return list(by_pid.values())


@pytest.fixture
def two_workers(prometheus, redis, tmp_path: Path) -> Iterator[str]:
    """scripts/serve.sh with WORKERS=2 and SHARED_CACHE_URL; yields its URL."""
    port = free_port()
    env = {
        **os.environ,
        **service_env(prometheus, redis, f"workers-{uuid.uuid4().hex[:8]}:"),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WORKERS": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "multiproc"),
    }
    log = tmp_path / "serve.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(ROOT / "scripts" / "serve.sh"), "--no-access-log", "--log-level", "warning"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the workers stop with it
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(url + "/health/live", process, log)
        yield url
    finally:
        stop_process(process, group=True)


def test_two_workers_share_through_redis_and_metrics_sum_both(two_workers):
    clear_of_slot_end()
    with ExitStack() as stack:
        first, second = pinned_clients(two_workers, 2, stack)
        for pinned in (first, second):
            warm_up("", pinned)
        before = metric_sum(first.get("/metrics").text, QUERIES)
        question = fresh_question()
        assert first.get(P95, params=question).headers["X-Cache"] == "MISS"
        assert second.get(P95, params=question).headers["X-Cache"] == "HIT"  # via Redis
        for pinned in (first, second):  # either worker's scrape sums both workers
            scrape = pinned.get("/metrics").text
            assert metric_sum(scrape, QUERIES) == before + 1
            assert metric_sum(scrape, "http_requests", handler=P95, status="200") == 4
