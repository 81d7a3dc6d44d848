"""The traffic source as a process: scrape its /metrics like Prometheus would."""

from __future__ import annotations

import math
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from demo.traffic import BUCKETS, PROFILES
from harness.processes import free_port, stop_process, wait_for_http
from harness.prometheus import PROMTOOL
from tests.conftest import require_binary
from tests.support.histograms import expected_quantile

ROOT = Path(__file__).resolve().parents[2]
MODELS = {p.name for p in PROFILES}
BOUNDS = [*BUCKETS, math.inf]
SPEED = 120  # two simulated minutes per real second


@pytest.fixture
def traffic():
    port = free_port()
    argv = [sys.executable, "-m", "demo.traffic", "--port", str(port)]
    argv += ["--speed", str(SPEED), "--rate", "300", "--seed", "1"]
    process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        wait_for_http(url, process, timeout=20, interval=0.1)
        yield url, process
    finally:
        stop_process(process)
        assert process.stdout is not None
        process.stdout.close()


def scrape(url: str) -> tuple[str, dict[str, dict[float, float]], dict[str, float]]:
    """The text, cumulative buckets per model, and demo_requests_total per model."""
    text = httpx.get(url, timeout=5).text
    buckets: dict[str, dict[float, float]] = {}
    requests: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            model = sample.labels.get("model", "")
            if sample.name == "request_duration_seconds_bucket":
                buckets.setdefault(model, {})[float(sample.labels["le"])] = sample.value
            elif sample.name == "demo_requests_total":
                requests[model] = sample.value
    return text, buckets, requests


def increments(before: dict[float, float], after: dict[float, float]) -> list[float]:
    """Per-bucket (non-cumulative) counts observed between two scrapes."""
    cumulative = [after[b] - before[b] for b in BOUNDS]
    return [c - (cumulative[i - 1] if i else 0.0) for i, c in enumerate(cumulative)]


def scrape_with_traffic(url: str) -> tuple[str, dict[str, dict[float, float]], dict[str, float]]:
    """A scrape once every model has served a request (bounded at 5 s)."""
    deadline = time.monotonic() + 5
    while True:
        text, buckets, requests = scrape(url)
        served = set(buckets) == MODELS and all(b.get(math.inf, 0) > 0 for b in buckets.values())
        if served or time.monotonic() > deadline:
            return text, buckets, requests
        time.sleep(0.1)


def test_histogram_is_well_formed(traffic):
    url, _ = traffic
    text, buckets, requests = scrape_with_traffic(url)
    assert set(buckets) == MODELS
    assert set(requests) == MODELS
    for model, by_bound in buckets.items():
        assert sorted(by_bound) == BOUNDS, model
        values = [by_bound[b] for b in BOUNDS]
        assert values == sorted(values), f"{model}: buckets are not cumulative"
        assert values[-1] > 0, f"{model}: no traffic yet"
        assert f'request_duration_seconds_count{{model="{model}"}} {values[-1]}' in text
        # The counter is incremented first, and scraped after the histogram.
        assert requests[model] >= values[-1]
    require_binary(PROMTOOL)
    check = subprocess.run(
        [PROMTOOL, "check", "metrics"], input=text.encode(), capture_output=True, timeout=30
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_llama_degrades_and_mistral_goes_quiet(traffic):
    url, _ = traffic
    scrapes = []
    for _ in range(3):
        time.sleep(3)
        scrapes.append(scrape(url)[1])
    first, second = (
        increments(scrapes[i]["llama-3-70b"], scrapes[i + 1]["llama-3-70b"]) for i in range(2)
    )
    p95 = [expected_quantile(0.95, BUCKETS, counts) for counts in (first, second)]
    before, after = p95
    assert before is not None
    assert after is not None
    assert after > before * 1.2, p95
    # Quiet after three simulated minutes (1.5 s here): nothing new between the last scrapes.
    mistral = [s["mistral-7b"][math.inf] for s in scrapes]
    assert mistral[0] > 0
    assert mistral[2] == mistral[1]
    gpt = [s["gpt-4o"][math.inf] for s in scrapes]
    assert gpt[2] > gpt[1]


def test_sigterm_stops_it(traffic):
    url, process = traffic
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=1)


def test_a_taken_port_is_a_clear_error():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "demo.traffic", "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
