"""Faults over real sockets: a misbehaving upstream, and a real Prometheus stopped mid-run."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator

import pytest

from app.settings import Settings
from harness.prometheus import PrometheusServer
from tests.support.dataset import END
from tests.support.fake_prometheus import FakeUpstream
from tests.support.histograms import expected_quantile

pytestmark = pytest.mark.prometheus


def settings_for(url: str, **overrides: object) -> Settings:
    defaults: dict[str, object] = {
        "prometheus_url": url,
        "cache_ttl_seconds": 0,
        "cache_stale_seconds": 0,
        "upstream_timeout_seconds": 0.5,
        "upstream_connect_timeout_seconds": 0.5,
    }
    return Settings(**{**defaults, **overrides})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("mode", "status", "words"),
    [
        ("slow", 504, "in time"),
        ("html", 502, "not JSON"),
        ("truncated", 502, "truncated"),
        ("reset", 503, "connection"),
        ("wrong_type", 502, "unexpected shape"),
    ],
)
async def test_misbehaving_upstream_gives_a_documented_error(make_client, mode, status, words):
    with FakeUpstream(mode) as upstream:
        async with make_client(settings_for(upstream.url)) as client:
            response = await asyncio.wait_for(client.get("/api/metrics/p95/"), timeout=10)
    assert response.status_code == status
    body = response.json()
    assert body["status"] == "error"
    assert words in body["error"]
    assert "upstream" not in body["details"]  # named only with EXPOSE_UPSTREAM=true


async def test_warnings_are_passed_on_with_the_result(make_client):
    with FakeUpstream("warnings") as upstream:
        async with make_client(settings_for(upstream.url)) as client:
            # Several percentiles: the fake answers every query with bucket rates.
            response = await client.get("/api/metrics/percentiles/?percentiles=95,99")
    assert response.status_code == 200
    assert response.json()["warnings"] == ["query results may be incomplete"]
    assert response.json()["partial"] is True  # not a PromQL note: part of the data
    expected = expected_quantile(0.95, [0.5], [2, 0])
    assert expected is not None
    p95 = response.json()["data"][0]["percentiles"]["p95"]
    assert p95 == pytest.approx(expected * 1000)


async def test_repeated_failures_open_the_circuit_and_spare_the_upstream(make_client):
    with FakeUpstream("reset") as upstream:
        settings = settings_for(upstream.url, circuit_failure_threshold=3, circuit_open_seconds=60)
        async with make_client(settings) as client:
            statuses = [
                (await client.get(f"/api/metrics/p95/?n={i}")).status_code for i in range(8)
            ]
            last = await client.get("/api/metrics/p95/")
    assert statuses == [503] * 8
    assert len(upstream.requests) == 3
    assert "stops asking" in last.json()["error"]
    assert last.headers["retry-after"].isdigit()


@pytest.fixture
def own(prometheus, tmp_path) -> Iterator[PrometheusServer]:
    """A private Prometheus over a copy of the dataset, so stopping it disturbs no other test."""
    shutil.copytree(prometheus.data_dir, tmp_path / "tsdb", ignore=shutil.ignore_patterns("lock"))
    server = PrometheusServer(tmp_path, tmp_path / "tsdb")
    yield server
    server.stop()


async def test_prometheus_stopped_mid_run_then_back(make_client, own):
    settings = settings_for(
        own.url, cache_stale_seconds=0, circuit_failure_threshold=2, circuit_open_seconds=0.5
    )
    path = f"/api/metrics/p95/?time={END}&model=gpt-4"
    own.start()
    async with make_client(settings) as client:
        before = await client.get(path)
        own.stop()
        during = [(await client.get(path)).status_code for _ in range(4)]
        own.start()
        await asyncio.sleep(0.6)  # the breaker's cooldown, then one probe
        after = await client.get(path)
    assert before.status_code == 200
    assert set(during) == {503}
    assert after.status_code == 200
    assert after.json()["data"] == before.json()["data"]


async def test_stale_answer_while_prometheus_is_down(make_client, own):
    settings = settings_for(own.url, cache_ttl_seconds=0.2, cache_stale_seconds=120)
    path = f"/api/metrics/p95/?time={END}"
    own.start()
    async with make_client(settings) as client:
        fresh = await client.get(path)
        own.stop()
        await asyncio.sleep(0.3)
        stale = await client.get(path)
    assert fresh.headers["x-cache"] == "MISS"
    assert stale.status_code == 200
    assert stale.headers["x-cache"] == "STALE"
    assert stale.json()["stale"] is True
    assert stale.json()["data"] == fresh.json()["data"]
