"""Two uvicorn workers behind scripts/serve.sh, scraped by a real Prometheus.

Known traffic goes in over fresh connections (so both workers serve some of it);
Prometheus's view of the counters must be the sum over both workers, exactly.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from harness.processes import free_port, stop_process, wait_for_http
from harness.prometheus import PROMETHEUS, PROMTOOL, PrometheusServer
from tests.conftest import require_binary
from tests.observability.test_exposition import promtool_check
from tests.support.dataset import END

pytestmark = pytest.mark.prometheus

ROOT = Path(__file__).resolve().parents[2]
P95 = "/api/metrics/p95/"
LIVE = "/health/live"
STALE_FILE = "counter_1.db"


@dataclass
class Running:
    url: str
    port: int
    multiproc_dir: Path
    log: Path


@pytest.fixture
def service(prometheus: PrometheusServer, tmp_path: Path) -> Iterator[Running]:
    require_binary(PROMETHEUS)
    port = free_port()
    multiproc = tmp_path / "multiproc"
    multiproc.mkdir()
    (multiproc / STALE_FILE).write_bytes(b"left over from an earlier run")
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WORKERS": "2",
        "PROMETHEUS_URL": prometheus.url,
        "PROMETHEUS_MULTIPROC_DIR": str(multiproc),
        "CACHE_TTL_SECONDS": "3600",
    }
    log = tmp_path / "service.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(ROOT / "scripts" / "serve.sh")],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_http(url + "/metrics", process, log)
        yield Running(url, port, multiproc, log)
    finally:
        # The session serve.sh started: the uvicorn supervisor and its workers.
        stop_process(process, group=True, grace=30)


@pytest.fixture
def scraper(service: Running, tmp_path: Path) -> Iterator[PrometheusServer]:
    """A second, empty Prometheus that scrapes the service every second."""
    workdir = tmp_path / "scraper"
    data = workdir / "tsdb"
    data.mkdir(parents=True)
    config = (
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        "scrape_configs:\n  - job_name: svc\n    static_configs:\n"
        f"      - targets: ['127.0.0.1:{service.port}']\n"
    )
    with PrometheusServer(workdir, data, config=config) as server:
        yield server


def get_fresh(url: str) -> httpx.Response:
    """One request on its own connection, so the kernel may hand it to either worker."""
    with httpx.Client(timeout=10) as client:
        return client.get(url)


def send_traffic(url: str) -> tuple[dict[str, int], set[int]]:
    """Known traffic; returns requests sent per handler label and the worker pids seen."""
    sent = {LIVE: 0, P95: 0, "unmatched": 0}
    pids: set[int] = set()
    while sent[LIVE] < 40 or (len(pids) < 2 and sent[LIVE] < 400):
        response = get_fresh(url + LIVE)
        assert response.status_code == 200
        pids.add(response.json()["pid"])
        sent[LIVE] += 1
    for _ in range(30):
        assert get_fresh(f"{url}/api/metrics/p95?time={END}").status_code == 200
        sent[P95] += 1
    for _ in range(25):
        assert get_fresh(f"{url}/scan/{uuid.uuid4().hex}").status_code == 404
        sent["unmatched"] += 1
    return sent, pids


def query(server: PrometheusServer, promql: str) -> dict[str, float]:
    """An instant query; each sample keyed by its handler label (or "" when it has none)."""
    response = httpx.get(server.url + "/api/v1/query", params={"query": promql}, timeout=10)
    response.raise_for_status()
    return {
        item["metric"].get("handler", ""): float(item["value"][1])
        for item in response.json()["data"]["result"]
    }


def wait_for(server: PrometheusServer, promql: str, expected: dict[str, float]) -> dict[str, float]:
    """Poll until Prometheus has scraped what is expected (bounded); return the last view."""
    deadline = time.monotonic() + 45
    seen = query(server, promql)
    while seen != expected and time.monotonic() < deadline:
        time.sleep(0.5)
        seen = query(server, promql)
    return seen


def test_prometheus_sees_the_sum_over_two_workers(service: Running, scraper: PrometheusServer):
    assert not (service.multiproc_dir / STALE_FILE).exists()  # serve.sh wiped it at start
    sent, pids = send_traffic(service.url)
    assert len(pids) == 2, "both workers should have answered some requests"

    by_handler = 'sum by (handler) (http_requests_total{job="svc", handler!="/metrics"})'
    expected = {handler: float(count) for handler, count in sent.items()}
    assert wait_for(scraper, by_handler, expected) == expected

    durations = 'sum by (handler) (http_request_duration_seconds_count{handler!="/metrics"})'
    assert query(scraper, durations) == expected
    cache = "sum(model_latency_cache_hits_total) + sum(model_latency_cache_misses_total)"
    assert query(scraper, cache) == {"": float(sent[P95])}
    # One miss per worker at most (each has its own cache), the rest hits.
    assert 1 <= query(scraper, "sum(model_latency_cache_misses_total)")[""] <= 2
    in_flight = 'sum(http_requests_in_progress{handler!="/metrics"})'
    assert query(scraper, in_flight) == {"": 0.0}
    assert query(scraper, "model_latency_worker_processes") == {"": 2.0}
    assert query(scraper, "sum(model_latency_build_info)") == {"": 1.0}
    assert query(scraper, 'up{job="svc"}') == {"": 1.0}
    assert query(scraper, "process_resident_memory_bytes")[""] > 0

    targets = httpx.get(scraper.url + "/api/v1/targets", timeout=10).json()["data"]
    [target] = targets["activeTargets"]
    assert (target["health"], target["lastError"]) == ("up", "")


def test_promtool_is_silent_on_a_two_worker_scrape(service: Running):
    require_binary(PROMTOOL)
    # Both workers must have answered before either counts the other (a worker shows in
    # the shared directory once it has answered a request).
    _, pids = send_traffic(service.url)
    assert len(pids) == 2, "both workers should have answered some requests"
    for path in (LIVE, P95, "/nowhere"):
        get_fresh(service.url + path)
    response = httpx.get(service.url + "/metrics", timeout=10)
    assert response.status_code == 200
    assert "model_latency_worker_processes 2.0" in response.text
    result = promtool_check(response.text)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
