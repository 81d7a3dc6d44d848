"""GET /api/metrics/stream/ under real uvicorn: the event format, one shared evaluation
per interval, the stream limit, clients that leave, upstream errors and shutdown."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from harness.processes import Service, free_port, uvicorn_app

pytestmark = pytest.mark.prometheus

STREAM = "/api/metrics/stream/"
# A wide window: the dataset ends when the session starts, and streams evaluate "now".
PARAMS = {"percentiles": "50,95,99", "interval": "1", "time_range": "6h"}


@contextmanager
def service(tmp_path: Path, prometheus_url: str, **env: str) -> Iterator[Service]:
    settings = {"PROMETHEUS_URL": prometheus_url, "CACHE_TTL_SECONDS": "1", **env}
    with uvicorn_app(tmp_path / f"service-{free_port()}.log", settings) as running:
        yield running


async def read_events(response: httpx.Response, count: int) -> list[dict[str, str]]:
    """The next ``count`` events (comments and the retry hint skipped)."""
    lines = response.extensions.setdefault("lines", response.aiter_lines())
    found: list[dict[str, str]] = []
    current: dict[str, str] = {}
    async for line in lines:
        if line == "":
            if "event" in current:
                found.append(current)
                if len(found) == count:
                    return found
            current = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(": ")
            current[name] = value
    return found


async def settled_metrics(client: httpx.AsyncClient) -> str:
    """/metrics once every stream that was closed has been let go (bounded: 3 s)."""
    for _ in range(30):
        text = (await client.get("/metrics")).text
        if metric(text, "model_latency_stream_clients") == 0:
            break
        await asyncio.sleep(0.1)
    return text


def metric(text: str, name: str, **labels: str) -> float:
    selector = "".join(rf'(?=[^}}]*{k}="{re.escape(v)}")' for k, v in labels.items())
    pattern = rf"^{name}(?:\{{{selector}[^}}]*\}})? (\S+)$"
    return sum(float(v) for v in re.findall(pattern, text, flags=re.MULTILINE))


async def test_events_are_the_percentiles_answer_with_its_evaluation_time(prometheus, tmp_path):
    with service(tmp_path, prometheus.url, CACHE_TTL_SECONDS="5") as svc:
        async with httpx.AsyncClient(base_url=svc.url, timeout=10) as client:
            async with client.stream("GET", STREAM, params={**PARAMS, "interval": "5"}) as r:
                assert r.status_code == 200
                assert r.headers["content-type"].startswith("text/event-stream")
                first = await anext(r.extensions.setdefault("lines", r.aiter_lines()))
                assert re.fullmatch(r"retry: 5000", first)
                (update,) = await read_events(r, 1)
            polled = await client.get(
                "/api/metrics/percentiles/", params={"percentiles": "50,95,99", "time_range": "6h"}
            )
    assert update["event"] == "percentiles"
    body = json.loads(update["data"])
    assert body["count"] > 0
    assert float(update["id"]) == pytest.approx(body["data"][0]["timestamp"])
    # The same question polled within the slot is a HIT on the answer the stream got.
    assert polled.headers["x-cache"] == "HIT"
    assert polled.json() == body


async def test_many_subscribers_share_one_evaluation_per_interval(prometheus, tmp_path):
    with service(tmp_path, prometheus.url, CACHE_TTL_SECONDS="2") as svc:
        async with httpx.AsyncClient(base_url=svc.url, timeout=15) as client:
            before = metric(
                (await client.get("/metrics")).text, "model_latency_upstream_queries_total"
            )

            async def subscriber() -> list[dict[str, str]]:
                params = {**PARAMS, "interval": "2"}
                async with client.stream("GET", STREAM, params=params) as response:
                    return await read_events(response, 3)

            started = time.monotonic()
            results = await asyncio.gather(*(subscriber() for _ in range(60)))
            seconds = time.monotonic() - started
            metrics = await settled_metrics(client)
    assert all(len(events) == 3 for events in results)
    asked = metric(metrics, "model_latency_upstream_queries_total") - before
    slots = seconds / 2 + 2  # every 2 s slot in which anyone asked, plus a boundary
    assert 1 <= asked <= slots + 1  # (+1: which kind of histogram, asked once)
    assert metric(metrics, "model_latency_stream_clients") == 0


async def test_the_stream_limit_is_a_json_503_with_retry_after(prometheus, tmp_path):
    with service(tmp_path, prometheus.url, STREAM_MAX_CLIENTS="2") as svc:
        async with httpx.AsyncClient(base_url=svc.url, timeout=10) as client:
            async with client.stream("GET", STREAM, params=PARAMS) as one:
                await read_events(one, 1)
                async with client.stream("GET", STREAM, params=PARAMS) as two:
                    await read_events(two, 1)
                    third = await client.get(STREAM, params=PARAMS)
                    gauge = metric(
                        (await client.get("/metrics")).text, "model_latency_stream_clients"
                    )
            after = metric(await settled_metrics(client), "model_latency_stream_clients")
    assert third.status_code == 503
    assert third.json()["status"] == "error"
    assert "STREAM_MAX_CLIENTS" in third.json()["error"]
    assert int(third.headers["retry-after"]) >= 1
    assert gauge == 2
    assert after == 0  # clients that went away hold nothing


async def test_an_interval_below_the_cache_ttl_is_a_400(prometheus, tmp_path):
    with service(tmp_path, prometheus.url, CACHE_TTL_SECONDS="10") as svc:
        async with httpx.AsyncClient(base_url=svc.url, timeout=10) as client:
            response = await client.get(STREAM, params={"interval": "2"})
    assert response.status_code == 400
    assert response.json()["details"]["errors"][0]["parameter"] == "interval"


async def test_upstream_errors_are_events_and_the_stream_goes_on(tmp_path):
    closed = f"http://127.0.0.1:{free_port()}"
    with service(tmp_path, closed, UPSTREAM_CONNECT_TIMEOUT_SECONDS="0.5") as svc:
        async with (
            httpx.AsyncClient(base_url=svc.url, timeout=10) as client,
            client.stream("GET", STREAM, params=PARAMS) as response,
        ):
            events = await read_events(response, 2)
    assert [e["event"] for e in events] == ["error", "error"]
    assert json.loads(events[0]["data"])["status"] == "error"


async def test_shutdown_closes_open_streams_promptly(prometheus, tmp_path):
    with service(tmp_path, prometheus.url, CACHE_TTL_SECONDS="5") as svc:
        async with (
            httpx.AsyncClient(base_url=svc.url, timeout=10) as client,
            client.stream("GET", STREAM, params={"interval": "60"}) as response,
        ):
            await read_events(response, 1)
            svc.process.send_signal(signal.SIGTERM)
            started = time.monotonic()
            await asyncio.to_thread(svc.process.wait, 10)
            took = time.monotonic() - started
    assert svc.process.returncode is not None
    assert took < 3
