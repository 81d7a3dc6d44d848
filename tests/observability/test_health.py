"""Each health endpoint in each upstream state: healthy (a real Prometheus), down, slow, garbage."""

from __future__ import annotations

import asyncio
import os
from datetime import datetime

import httpx
import psutil
import pytest

from app.promql.client import PrometheusClient
from app.promql.durations import iso8601
from app.services import health
from app.services.health import HealthMonitor
from app.settings import Settings
from harness.processes import free_port
from tests.observability.conftest import MODELS, FakePrometheus, fake_settings, serve
from tests.support.dataset import DATASET, END

HEALTH_PATHS = ("/health", "/health/ready", "/health/live", "/api/health/", "/health/metrics")


def closed_port_settings(**overrides: object) -> Settings:
    return Settings(prometheus_url=f"http://127.0.0.1:{free_port()}", **overrides)  # type: ignore[arg-type]


# --- liveness and system metrics never touch Prometheus ---------------------------------


async def test_live_answers_without_asking_prometheus():
    fake = FakePrometheus("down")
    async with serve(fake_settings(), httpx.MockTransport(fake)) as svc:
        response = await svc.client.get("/health/live")
    assert response.status_code == 200
    assert response.json()["status"] == "alive"
    assert response.json()["pid"] == os.getpid()
    assert fake.calls == []


async def test_system_metrics_report_this_process_and_host():
    fake = FakePrometheus("down")
    settings = fake_settings(health_metrics_enabled=True)
    async with serve(settings, httpx.MockTransport(fake)) as svc:
        await svc.client.get("/health/metrics")
        response = await svc.client.get("/health/metrics")
    assert response.status_code == 200
    body = response.json()
    assert body["process"]["pid"] == os.getpid()
    assert body["process"]["memory_rss_bytes"] > 0
    assert body["process"]["threads"] >= 1
    assert body["system"]["cpu_count"] == psutil.cpu_count()
    assert body["system"]["memory_total_bytes"] == psutil.virtual_memory().total
    assert body["system"]["disk_total_bytes"] == psutil.disk_usage("/").total
    assert 0 <= body["system"]["disk_usage_percent"] <= 100
    assert len(body["system"]["load_average"]) == 3
    assert fake.calls == []


# --- readiness -----------------------------------------------------------------------------


@pytest.mark.prometheus
async def test_ready_when_prometheus_is(prometheus):
    async with serve(Settings(prometheus_url=prometheus.url)) as svc:
        response = await svc.client.get("/health/ready")
    assert response.status_code == 200
    body = response.json()
    # The upstream is not named unless EXPOSE_UPSTREAM is on (tests/unit/test_secrets.py).
    assert (body["status"], body["reason"], body["upstream"]) == ("ready", None, None)
    assert body["latency_ms"] >= 0
    datetime.fromisoformat(body["checked_at"])


async def test_not_ready_when_prometheus_is_down():
    async with serve(closed_port_settings()) as svc:
        response = await svc.client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["status"] == "not_ready"
    assert "unreachable" in response.json()["reason"]


async def test_not_ready_when_prometheus_is_slow():
    fake = FakePrometheus("slow", delay=5)
    settings = fake_settings(health_timeout_seconds=0.2)
    async with serve(settings, httpx.MockTransport(fake)) as svc:
        response = await asyncio.wait_for(svc.client.get("/health/ready"), timeout=4)
    assert response.status_code == 503
    assert response.json()["reason"] == "Prometheus did not answer within 0.2s"


async def test_not_ready_when_prometheus_says_so():
    async with serve(fake_settings(), httpx.MockTransport(FakePrometheus("error500"))) as svc:
        response = await svc.client.get("/health/ready")
    assert response.status_code == 503
    assert "HTTP 500" in response.json()["reason"]


async def test_readiness_is_cached_and_shared_so_probes_cannot_flood_prometheus(fake):
    async with serve(fake_settings(health_cache_seconds=60), httpx.MockTransport(fake)) as svc:
        together = await asyncio.gather(*(svc.client.get("/health/ready") for _ in range(10)))
        later = [await svc.client.get("/health/ready") for _ in range(3)]
    assert {r.status_code for r in [*together, *later]} == {200}
    assert fake.calls.count("/-/ready") == 1
    assert len({r.json()["checked_at"] for r in [*together, *later]}) == 1


async def test_readiness_asks_again_once_the_cached_answer_expires(fake):
    async with serve(fake_settings(health_cache_seconds=0), httpx.MockTransport(fake)) as svc:
        for _ in range(3):
            await svc.client.get("/health/ready")
    assert fake.calls.count("/-/ready") == 3


# --- /health ------------------------------------------------------------------------------


@pytest.mark.prometheus
async def test_health_is_healthy_with_a_real_prometheus(prometheus):
    settings = Settings(prometheus_url=prometheus.url, environment="test", service_name="svc")
    async with serve(settings) as svc:
        response = await svc.client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"status", "timestamp", "version", "environment", "service", "checks"}
    assert (body["status"], body["environment"], body["service"]) == ("healthy", "test", "svc")
    assert set(body["checks"]) == {"prometheus", "application", "shared_cache"}
    assert body["checks"].pop("shared_cache") is None  # no SHARED_CACHE_URL, nothing to report
    for check in body["checks"].values():
        assert set(check) == {"status", "message", "latency_ms"}
        assert check["status"] == "healthy"


async def test_health_is_unhealthy_when_prometheus_is_down():
    async with serve(closed_port_settings()) as svc:
        response = await svc.client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["checks"]["prometheus"]["status"] == "unhealthy"
    assert "unreachable" in body["checks"]["prometheus"]["message"]
    assert body["checks"]["application"]["status"] == "healthy"


async def test_health_is_degraded_when_prometheus_answers_slowly():
    fake = FakePrometheus("slow", delay=0.3)
    settings = fake_settings(health_slow_seconds=0.1, health_timeout_seconds=10)
    async with serve(settings, httpx.MockTransport(fake)) as svc:
        response = await svc.client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["prometheus"]["status"] == "degraded"
    assert body["checks"]["prometheus"]["latency_ms"] >= 300
    assert "slower than 0.1s" in body["checks"]["prometheus"]["message"]


async def test_health_is_unhealthy_when_prometheus_is_slower_than_the_timeout():
    fake = FakePrometheus("slow", delay=5)
    settings = fake_settings(health_timeout_seconds=0.2)
    async with serve(settings, httpx.MockTransport(fake)) as svc:
        response = await asyncio.wait_for(svc.client.get("/health"), timeout=4)
    assert response.status_code == 503
    assert response.json()["checks"]["prometheus"]["message"] == (
        "Prometheus did not answer within 0.2s"
    )


@pytest.mark.parametrize(
    ("mode", "words"), [("html", "not JSON"), ("wrong_shape", "unexpected shape")]
)
async def test_health_is_unhealthy_when_prometheus_speaks_garbage(mode, words):
    async with serve(fake_settings(), httpx.MockTransport(FakePrometheus(mode))) as svc:
        response = await svc.client.get("/health")
    assert response.status_code == 503
    assert response.json()["status"] == "unhealthy"
    assert words in response.json()["checks"]["prometheus"]["message"]


async def test_health_is_degraded_while_the_clients_circuit_is_open():
    fake = FakePrometheus("down")
    settings = fake_settings(
        circuit_failure_threshold=1,
        circuit_open_seconds=600,
        cache_ttl_seconds=0,
        cache_stale_seconds=0,
    )
    async with serve(settings, httpx.MockTransport(fake)) as svc:
        assert (await svc.client.get("/api/metrics/p95/")).status_code == 503
        fake.mode = "ok"  # Prometheus is back, but clients' queries wait for the breaker
        response = await svc.client.get("/health")
    body = response.json()
    assert (response.status_code, body["status"]) == (503, "degraded")
    assert body["checks"]["prometheus"]["status"] == "healthy"
    assert body["checks"]["application"]["status"] == "degraded"
    assert "open" in body["checks"]["application"]["message"]


# --- /api/health/ -------------------------------------------------------------------------


def dataset_models(metric: str) -> set[str]:
    return {s.labels["model"] for s in DATASET.series if s.metric == metric}


@pytest.mark.prometheus
async def test_collection_counts_the_models_prometheus_has(prometheus):
    expected = len(dataset_models("request_duration_seconds"))
    async with httpx.AsyncClient() as http:
        client = PrometheusClient(http, prometheus.url)
        monitor = HealthMonitor(client, clock=lambda: float(END))
        body = await health.collection_health(monitor)
    assert expected == 6
    assert body.status == "healthy"
    assert body.model_count == expected
    assert body.last_collection == iso8601(END)
    assert body.minutes_ago == 0


@pytest.mark.prometheus
async def test_api_health_agrees_with_the_p95_endpoint(prometheus):
    async with serve(Settings(prometheus_url=prometheus.url)) as svc:
        response = await svc.client.get("/api/health")
        p95 = await svc.client.get("/api/metrics/p95/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"status", "last_collection", "minutes_ago", "model_count", "error"}
    assert (body["status"], body["error"]) == ("healthy", None)
    assert body["model_count"] == p95.json()["count"]
    assert datetime.fromisoformat(body["last_collection"]).tzinfo is not None
    assert body["minutes_ago"] >= 0


async def test_api_health_when_prometheus_never_answered():
    async with serve(closed_port_settings()) as svc:
        response = await svc.client.get("/api/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert (body["last_collection"], body["minutes_ago"], body["model_count"]) == (None,) * 3
    assert "unreachable" in body["error"]


async def test_api_health_keeps_the_last_success_while_prometheus_is_down():
    fake = FakePrometheus("ok")
    now = [1_700_000_000.0]
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as http:
        monitor = HealthMonitor(
            PrometheusClient(http, "http://prometheus.test"),
            ttl=0,
            clock=lambda: now[0],
        )
        first = await health.collection_health(monitor)
        fake.mode = "down"
        now[0] += 150
        later = await health.collection_health(monitor)
    assert (first.status, first.model_count) == ("healthy", len(MODELS))
    assert later.status == "unhealthy"
    assert later.last_collection == iso8601(1_700_000_000.0)
    assert (later.minutes_ago, later.model_count) == (2.5, len(MODELS))
    assert "unreachable" in (later.error or "")


# --- no health endpoint ever answers 500 --------------------------------------------------


@pytest.mark.parametrize("mode", ["down", "slow", "html", "error500", "wrong_shape"])
async def test_no_health_endpoint_fails_whatever_prometheus_does(mode):
    fake = FakePrometheus(mode, delay=5)
    settings = fake_settings(health_timeout_seconds=0.2, health_metrics_enabled=True)
    async with serve(settings, httpx.MockTransport(fake)) as svc:
        responses = {
            path: await asyncio.wait_for(svc.client.get(path), timeout=4) for path in HEALTH_PATHS
        }
    for path, response in responses.items():
        expected = 200 if path in ("/health/live", "/health/metrics") else 503
        if mode in ("html", "wrong_shape") and path == "/health/ready":
            expected = 200  # Prometheus's readiness check is its status code, and that is 200
        assert response.status_code == expected, path
        assert isinstance(response.json(), dict)
