"""`make run` without PROMETHEUS_URL: the launcher brings up the demo and stops it on Ctrl-C."""

from __future__ import annotations

import contextlib
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from demo.traffic import PROFILES
from harness.processes import free_port, port_is_free, stop_process
from harness.prometheus import PROMETHEUS
from tests.conftest import require_binary

ROOT = Path(__file__).resolve().parents[2]
MODELS = {p.name for p in PROFILES}


class Output:
    """The launcher's stdout, read line by line in a thread so waits stay bounded."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        assert process.stdout is not None
        threading.Thread(target=self._pump, args=(process.stdout,), daemon=True).start()

    def _pump(self, stream) -> None:
        for line in stream:
            self._queue.put(line)

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines:
                if found := re.search(pattern, line):
                    return found
            with contextlib.suppress(queue.Empty):
                self.lines.append(self._queue.get(timeout=0.5))
        raise AssertionError(f"no {pattern!r} in {timeout}s:\n{''.join(self.lines)}")


@pytest.fixture
def busy_port():
    """A port something else already listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_demo_comes_up_with_live_numbers_and_ctrl_c_stops_it(tmp_path, busy_port):
    require_binary(PROMETHEUS)
    prometheus_port, traffic_port = free_port(), free_port()
    argv = [sys.executable, "-m", "demo.launcher", "--port", str(busy_port)]
    argv += ["--prometheus-port", str(prometheus_port), "--traffic-port", str(traffic_port)]
    argv += ["--workdir", str(tmp_path), "--scrape-interval", "1", "--start-timeout", "60"]
    process = subprocess.Popen(
        argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output = Output(process)
    try:
        output.wait_for(rf"port {busy_port} is taken; the service uses \d+ instead", 10)
        service = output.wait_for(r"status page\s+(http://127\.0\.0\.1:(\d+))/", 120)
        output.wait_for(r"Live numbers are in", 90)
        service_url, service_port = service.group(1), int(service.group(2))
        assert service_port != busy_port

        body = httpx.get(f"{service_url}/api/metrics/", timeout=10).json()
        assert {item["model"] for item in body["data"]} == MODELS
        assert any(item["p95_latency_ms"] for item in body["data"])
        page = httpx.get(f"{service_url}/", timeout=10)
        assert page.status_code == 200
        assert "<title>Model status" in page.text

        targets = httpx.get(
            f"http://127.0.0.1:{prometheus_port}/api/v1/targets", timeout=10
        ).json()["data"]["activeTargets"]
        jobs = {t["labels"]["job"]: t for t in targets}
        assert set(jobs) == {"llm-gateway", "model-latency-api"}
        assert jobs["llm-gateway"]["health"] == "up"
        assert jobs["llm-gateway"]["scrapeUrl"] == f"http://127.0.0.1:{traffic_port}/metrics"

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=40) == 0
        output.wait_for(r"demo stopped", 5)
        for port in (service_port, prometheus_port, traffic_port):
            assert not listening(port), f"port {port} still has a listener after Ctrl-C"
    finally:
        stop_process(process)
        assert process.stdout is not None
        process.stdout.close()


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_port_is_free_tells_a_listener_from_a_free_port(busy_port):
    assert not port_is_free(busy_port)
    assert port_is_free(free_port())
