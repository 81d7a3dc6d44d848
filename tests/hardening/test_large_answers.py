"""Large answers are built off the event loop: liveness keeps answering within a second.

The reviewed case: ``/api/metrics/p95/range/?duration=3h&step=1s`` over 65 models is a
legal request of 10,801 points per series, 702,065 values, about 36 MB. Several at once
used to stall ``/health/live`` for many seconds; a Kubernetes liveness probe would have
restarted the pod. And an answer above ``MAX_RESPONSE_POINTS`` is a 400 that says how to
stay under it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from harness.processes import Service, uvicorn_app

END = 1_700_000_000
POINTS = 10_801


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The stand-in Prometheus with 65 models."""
    logs: Path = tmp_path_factory.mktemp("large")
    stand_in = "tests.support.fake_prometheus:wide_app"
    with uvicorn_app(logs / "upstream.log", {"BIG_MODELS": "65"}, app=stand_in) as running:
        yield running


@pytest.fixture(scope="module")
def big(upstream: Service, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    env = {"PROMETHEUS_URL": upstream.url, "UPSTREAM_TIMEOUT_SECONDS": "120"}
    with uvicorn_app(tmp_path_factory.mktemp("large") / "service.log", env) as service:
        yield service


class Prober(threading.Thread):
    """GET /health/live every 100 ms from its own thread; the slowest answer wins.

    The test's event loop only reads bodies while this runs (no JSON parsing, which
    would hold this process's GIL and slow the prober itself down).
    """

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.slowest = 0.0
        self.answers = 0
        self.done = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self.done.is_set():
                started = time.monotonic()
                assert client.get(self.url + "/health/live").status_code == 200
                self.slowest = max(self.slowest, time.monotonic() - started)
                self.answers += 1
                self.done.wait(0.1)


async def test_liveness_answers_while_large_answers_are_built(big):
    prober = Prober(big.url)
    prober.start()
    try:
        async with httpx.AsyncClient(base_url=big.url, timeout=120) as client:
            responses = await asyncio.gather(
                *(
                    client.get(
                        "/api/metrics/p95/range/",
                        params={"start": END - 10_800 - i, "end": END - i, "step": "1s"},
                    )
                    for i in range(3)
                )
            )
    finally:
        prober.done.set()
        prober.join(timeout=30)
    for response in responses:
        assert response.status_code == 200, response.text[:300]
        body = orjson.loads(response.content)
        assert body["count"] == 65
        assert all(len(item["data_points"]) == POINTS for item in body["data"])
    assert prober.answers > 10
    assert prober.slowest < 1.0, f"/health/live took {prober.slowest:.2f}s"


async def test_an_answer_above_the_limit_is_a_400_naming_it(tmp_path, upstream, big):
    async with httpx.AsyncClient(base_url=big.url, timeout=120) as client:
        ok = await client.get(
            "/api/metrics/p95/range/", params={"start": END - 3600, "end": END, "step": "1s"}
        )
    assert ok.status_code == 200  # 65 x 3601 values: under the default limit
    with uvicorn_app(
        tmp_path / "small.log",
        {"PROMETHEUS_URL": upstream.url, "MAX_RESPONSE_POINTS": "100000"},
    ) as small:
        async with httpx.AsyncClient(base_url=small.url, timeout=120) as client:
            refused = await client.get(
                "/api/metrics/p95/range/", params={"start": END - 3600, "end": END, "step": "1s"}
            )
    assert refused.status_code == 400
    (error,) = refused.json()["details"]["errors"]
    assert "MAX_RESPONSE_POINTS" in error["message"]
    assert "larger step" in error["message"]
