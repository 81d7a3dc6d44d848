"""Streams that clients abuse: a request pipelined behind a stream, then a close, must
give the slot back; many distinct stream questions must not starve ordinary requests."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from harness.processes import Service, uvicorn_app
from tests.integration.test_stream import metric, service
from tests.support.dataset import END

pytestmark = pytest.mark.prometheus

STREAM = "/api/metrics/stream/"


def pipelined_stream_then_close(svc: Service) -> bytes:
    """GET the stream and a second request on the same connection, read a little, close;
    the status line of the stream's answer."""
    host, port = svc.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(
            b"GET /api/metrics/stream/?interval=1&time_range=6h HTTP/1.1\r\nHost: t\r\n\r\n"
            b"GET /health/live HTTP/1.1\r\nHost: t\r\n\r\n"
        )
        return sock.recv(4096).partition(b"\r\n")[0]


def stream_then_reset(svc: Service) -> bytes:
    """GET the stream, read its start, and reset the connection (RST, no FIN)."""
    host, port = svc.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=5)
    sock.sendall(b"GET /api/metrics/stream/?interval=1&time_range=6h HTTP/1.1\r\nHost: t\r\n\r\n")
    status = sock.recv(4096).partition(b"\r\n")[0]
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
    return status


def stream_clients(client: httpx.Client) -> float:
    return metric(client.get("/metrics").text, "model_latency_stream_clients")


def settled_stream_clients(client: httpx.Client, within: float = 5.0) -> float:
    deadline = time.monotonic() + within
    while (open_now := stream_clients(client)) > 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    return open_now


# uvloop (the default) fails a write to the closed connection; the standard asyncio loop
# drops it silently, and the service asks the transport instead.
@pytest.mark.parametrize("loop", ["auto", "asyncio"])
def test_a_request_pipelined_behind_a_stream_does_not_keep_its_slot(
    prometheus, tmp_path: Path, loop: str
):
    env = {"PROMETHEUS_URL": prometheus.url, "CACHE_TTL_SECONDS": "1", "STREAM_MAX_CLIENTS": "3"}
    args = ("--no-access-log", "--log-level", "warning", "--loop", loop)
    with (
        uvicorn_app(tmp_path / "service.log", env, uvicorn_args=args) as svc,
        httpx.Client(base_url=svc.url, timeout=10) as client,
    ):
        statuses = [pipelined_stream_then_close(svc) for _ in range(3)]  # STREAM_MAX_CLIENTS
        left_open = settled_stream_clients(client)
        with client.stream("GET", STREAM, params={"interval": "1", "time_range": "6h"}) as again:
            status = again.status_code
    assert statuses == [b"HTTP/1.1 200 OK"] * 3
    assert left_open == 0  # with no connection open, no stream counted
    assert status == 200


def test_streams_reset_by_their_clients_give_their_slots_back(prometheus, tmp_path: Path):
    with (
        service(tmp_path, prometheus.url, STREAM_MAX_CLIENTS="3") as svc,
        httpx.Client(base_url=svc.url, timeout=10) as client,
    ):
        statuses = [stream_then_reset(svc) for _ in range(3)]
        left_open = settled_stream_clients(client)
        again = stream_then_reset(svc)
    assert statuses == [b"HTTP/1.1 200 OK"] * 3
    assert left_open == 0
    assert again == b"HTTP/1.1 200 OK"


async def follow(client: httpx.AsyncClient, params: dict[str, str], seconds: float, **kw) -> int:
    """Open a stream, read it for ``seconds`` (a refused one is answered at once); its status."""
    async with client.stream("GET", STREAM, params=params, **kw) as response:
        if response.status_code == 200:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(seconds):
                    async for _ in response.aiter_raw():
                        pass
        return response.status_code


async def ordinary_requests(client: httpx.AsyncClient, count: int) -> list[httpx.Response]:
    """Uncached questions (each its own evaluation time), one every half second."""
    answers = []
    for n in range(count):
        await asyncio.sleep(0.5)
        params = {"time": str(END - 600 - n), "time_range": "1h"}
        answers.append(await client.get("/api/metrics/p95/", params=params))
    return answers


@dataclass
class Attack:
    statuses: list[int]  # of the streams
    answers: list[httpx.Response]  # to the ordinary requests
    queries: float  # upstream queries made meanwhile
    overloaded: float  # of them refused for want of room
    seconds: float


async def distinct_streams_and_ordinary_requests(
    url: str, streams: int, headers: Callable[[int], dict[str, str]]
) -> Attack:
    """``streams`` streams, each its own question (``time_range``), read for 8 s; ten
    ordinary requests meanwhile."""
    limits = httpx.Limits(max_connections=streams + 20)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        before = (await client.get("/metrics")).text
        started = time.monotonic()
        following = [
            follow(client, {"interval": "1", "time_range": f"{60 + n}m"}, 8, headers=headers(n))
            for n in range(streams)
        ]
        statuses, answers = await asyncio.gather(
            asyncio.gather(*following), ordinary_requests(client, 10)
        )
        seconds = time.monotonic() - started
        after = (await client.get("/metrics")).text

    def spent(**labels: str) -> float:
        name = "model_latency_upstream_queries_total"
        return metric(after, name, **labels) - metric(before, name, **labels)

    return Attack(statuses, answers, spent(), spent(outcome="overloaded"), seconds)


def assert_bounded(attack: Attack, questions: int) -> None:
    """Ordinary requests answered; the streams' questions asked at most once a second
    each (one loop per question), plus the ordinary requests and the kind probe."""
    assert [answer.status_code for answer in attack.answers] == [200] * 10
    assert attack.statuses.count(200) == questions
    assert attack.statuses.count(503) == len(attack.statuses) - questions
    assert attack.overloaded == 0
    assert attack.queries <= questions * (attack.seconds + 2) + 10 + 1


# A Prometheus that takes four queries at a time and a client that waits half a second
# for one: what a busy engine gives, so that polling loops can starve everyone.
TIGHT_UPSTREAM = {
    "UPSTREAM_MAX_CONCURRENCY": "4",
    "UPSTREAM_MAX_CONNECTIONS": "5",
    "UPSTREAM_QUEUE_TIMEOUT_SECONDS": "0.5",
}


def refused_by(statuses: list[int]) -> int:
    return sum(status == 503 for status in statuses)


async def test_300_distinct_streams_from_one_client_leave_ordinary_requests_answered(
    prometheus, tmp_path: Path
):
    with service(tmp_path, prometheus.url, STREAM_MAX_PER_CLIENT="20", **TIGHT_UPSTREAM) as svc:
        attack = await distinct_streams_and_ordinary_requests(svc.url, 300, lambda _: {})
    assert_bounded(attack, 20)


async def test_300_distinct_streams_from_many_addresses_follow_at_most_stream_max_keys(
    prometheus, tmp_path: Path
):
    # uvicorn takes the client address from X-Forwarded-For sent from 127.0.0.1.
    def address(n: int) -> dict[str, str]:
        return {"X-Forwarded-For": f"10.0.{n // 200}.{n % 200 + 1}"}

    with service(tmp_path, prometheus.url, STREAM_MAX_KEYS="20", **TIGHT_UPSTREAM) as svc:
        attack = await distinct_streams_and_ordinary_requests(svc.url, 300, address)
    assert_bounded(attack, 20)


def test_a_head_of_the_stream_ends_and_frees_its_slot(prometheus, tmp_path: Path):
    # An uptime checker's HEADs, on one kept-alive connection, with room for one stream.
    with (
        service(tmp_path, prometheus.url, STREAM_MAX_CLIENTS="1") as svc,
        httpx.Client(base_url=svc.url, timeout=5) as client,
    ):
        heads = [client.head(STREAM, params={"time_range": "6h"}) for _ in range(3)]
        with client.stream("GET", STREAM, params={"time_range": "6h"}) as stream:
            status = stream.status_code
    assert [head.status_code for head in heads] == [200] * 3
    assert all(head.headers["content-type"].startswith("text/event-stream") for head in heads)
    assert status == 200
