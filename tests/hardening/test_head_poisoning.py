"""A HEAD request must not poison the cache: it is answered from the GET answer, which is
rendered as a GET whatever the client sent (one process, and three replicas sharing a
real Redis; stream subscribers of the same question included)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import pytest

from app.cache.store import Slots
from app.settings import Settings
from harness.processes import Service, uvicorn_app
from harness.redis import REDIS_SERVER, RedisServer
from tests.conftest import require_binary
from tests.integration.test_stream import read_events
from tests.support.dataset import END
from tests.support.fake_prometheus import FakeUpstream

pytestmark = pytest.mark.prometheus

P95 = "/api/metrics/p95/"
PERCENTILES = "/api/metrics/percentiles/"
STREAM = "/api/metrics/stream/"
# Evaluated at the dataset's end: "now" drifts past the data as a long session goes on.
QUESTION = {"time_range": "7m", "time": str(END)}


def assert_whole_answer(response: httpx.Response) -> dict[str, object]:
    """A 200 whose body is the full JSON answer, as long as it says."""
    assert response.status_code == 200, response.text
    assert int(response.headers["content-length"]) == len(response.content) > 0
    body = json.loads(response.content)
    assert body["status"] == "success"
    assert body["count"] == len(body["data"]) > 0
    return body


async def test_head_then_get_in_one_process_gives_the_whole_json(prometheus, make_client):
    settings = Settings(prometheus_url=prometheus.url, cache_ttl_seconds=600)
    async with make_client(settings) as client:
        head = await client.head(P95, params=QUESTION)
        get = await client.get(P95, params=QUESTION)
        head_again = await client.head(P95, params=QUESTION)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["x-cache"] == "MISS"
    assert_whole_answer(get)
    assert get.headers["x-cache"] == "HIT"  # the HEAD's render was a GET, kept whole
    # HEAD answers are derived from the GET answer: its length, no body.
    assert int(head.headers["content-length"]) == len(get.content)
    assert head_again.headers["x-cache"] == "HIT"
    assert int(head_again.headers["content-length"]) == len(get.content)
    assert head_again.content == b""


@pytest.fixture(scope="module")
def replicas(prometheus, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Service]]:
    require_binary(REDIS_SERVER)
    workdir = tmp_path_factory.mktemp("head")
    env = {
        "PROMETHEUS_URL": prometheus.url,
        "SHARED_CACHE_PREFIX": f"head-{uuid.uuid4().hex[:8]}:",
        "CACHE_TTL_SECONDS": "600",
        "SHARED_CACHE_TIMEOUT_SECONDS": "2",
    }
    with ExitStack() as stack:
        redis = stack.enter_context(RedisServer(workdir))
        env["SHARED_CACHE_URL"] = redis.url
        yield [
            stack.enter_context(uvicorn_app(workdir / f"replica-{name}.log", env)) for name in "abc"
        ]


def test_head_on_one_replica_then_get_on_every_replica_gives_the_whole_json(
    replicas: list[Service],
):
    question = QUESTION
    with httpx.Client(timeout=15) as client:
        head = client.head(replicas[0].url + P95, params=question)
        answers = [client.get(service.url + P95, params=question) for service in replicas]
    assert head.status_code == 200
    assert head.content == b""
    bodies = [assert_whole_answer(answer) for answer in answers]
    assert all(body == bodies[0] for body in bodies)
    assert [answer.headers["x-cache"] for answer in answers] == ["HIT", "HIT", "HIT"]
    assert int(head.headers["content-length"]) == len(answers[0].content)


async def test_stream_subscribers_of_a_question_first_asked_with_head_get_json(
    replicas: list[Service],
):
    asked = {"percentiles": "50,95,99", "time_range": "6h", "time": str(END)}
    async with httpx.AsyncClient(timeout=15) as client:
        head = await client.head(replicas[0].url + PERCENTILES, params=asked)
        assert head.status_code == 200
        stream_params = {**asked, "interval": "600"}
        async with client.stream("GET", replicas[1].url + STREAM, params=stream_params) as r:
            assert r.status_code == 200
            (update,) = await read_events(r, 1)
    assert update["event"] == "percentiles"
    body = json.loads(update["data"])
    assert body["count"] == len(body["data"]) > 0
    assert float(update["id"]) == pytest.approx(body["data"][0]["timestamp"])


async def test_after_a_head_the_stale_stand_in_is_the_whole_json(make_client):
    # A fake upstream, so that it can fail on cue once the answer is no longer fresh.
    with FakeUpstream("ok") as upstream:
        settings = Settings(
            prometheus_url=upstream.url, cache_ttl_seconds=1, cache_stale_seconds=300
        )
        async with make_client(settings) as client:
            head = await client.head(P95, params={"time_range": "7m"})
            await asyncio.sleep(Slots(1).fresh_until(time.time()) - time.time() + 0.05)
            upstream.mode = "reset"
            stale = await client.get(P95, params={"time_range": "7m"})
    assert head.status_code == 200
    assert stale.headers["x-cache"] == "STALE"
    assert assert_whole_answer(stale)["stale"] is True
