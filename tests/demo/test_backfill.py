"""`make run` starts with an hour of history: the chart is full before the first scrape."""

from __future__ import annotations

import itertools
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from demo.backfill import history
from demo.traffic import PROFILES, TrafficModel, TrafficSource
from harness.processes import free_port, stop_process
from harness.prometheus import PROMETHEUS
from tests.conftest import require_binary
from tests.demo.test_launcher import Output

ROOT = Path(__file__).resolve().parents[2]
MODELS = {p.name for p in PROFILES}
LABELS = {"job": "llm-gateway", "instance": "127.0.0.1:9101"}


def samples(text: str) -> list[tuple[str, dict[str, str], float, float | None]]:
    """(name, labels, value, timestamp) of every sample; promtool itself reads the history
    in the launcher test below, this only looks at its series."""
    found = []
    for family in text_string_to_metric_families(text.replace("# EOF\n", "")):
        for s in family.samples:
            # The text-format parser takes timestamps for milliseconds; OpenMetrics has seconds.
            stamp = None if s.timestamp is None else float(s.timestamp) * 1000
            found.append((s.name, s.labels, s.value, stamp))
    return found


def test_history_has_the_series_a_scrape_of_the_traffic_source_has():
    registry = CollectorRegistry()
    TrafficSource(TrafficModel(), registry)
    scraped_keys = {
        (name, tuple(sorted(labels.items())))
        for name, labels, _, _ in samples(generate_latest(registry).decode())
        if name.startswith("request_duration_seconds_") and not name.endswith("_created")
    }
    text = history(end=1_800_000_000.0, labels=LABELS, seconds=600, interval=5)
    backfilled = samples(text)
    keys = {
        (name, tuple(sorted((k, v) for k, v in labels.items() if k not in LABELS)))
        for name, labels, _, _ in backfilled
        if name.startswith("request_duration_seconds_")
    }
    assert keys == scraped_keys  # same names, models and `le` values: one series each
    assert all(labels.items() >= LABELS.items() for _, labels, _, _ in backfilled)
    stamps = sorted({stamp for _, _, _, stamp in backfilled if stamp is not None})
    assert stamps[0] == 1_800_000_000.0 - 600
    assert stamps[-1] == 1_800_000_000.0
    assert all(b - a == 5 for a, b in itertools.pairwise(stamps))
    counts = [v for name, labels, v, _ in backfilled if name.endswith("_count")]
    assert max(counts) > 0


def query(prometheus: str, expr: str, at: float) -> dict[str, float]:
    body = httpx.get(
        f"{prometheus}/api/v1/query", params={"query": expr, "time": at}, timeout=10
    ).json()
    assert body["status"] == "success", body
    return {r["metric"].get("model", ""): float(r["value"][1]) for r in body["data"]["result"]}


def live_series(prometheus: str, launched: float) -> tuple[dict[str, float], dict[str, float]]:
    """Series per model, and each one's latest sample time, once every model has a sample
    scraped after ``launched`` (1 s scrapes; bounded at 15 s)."""
    deadline = time.monotonic() + 15
    while True:
        now = time.time()
        series = query(prometheus, "count by (model) (request_duration_seconds_count)", now)
        fresh = query(prometheus, "timestamp(request_duration_seconds_count)", now)
        scraped = set(fresh) == MODELS and all(t > launched for t in fresh.values())
        if scraped or time.monotonic() > deadline:
            return series, fresh
        time.sleep(0.25)


def test_launchers_prometheus_has_the_last_hour_before_scraping_starts(tmp_path):
    require_binary(PROMETHEUS)
    ports = {name: free_port() for name in ("service", "prometheus", "traffic")}
    argv = [sys.executable, "-m", "demo.launcher", "--port", str(ports["service"])]
    argv += ["--prometheus-port", str(ports["prometheus"])]
    argv += ["--traffic-port", str(ports["traffic"]), "--workdir", str(tmp_path)]
    argv += ["--scrape-interval", "1", "--start-timeout", "60"]
    launched = time.time()  # nothing scraped before this moment can be in Prometheus
    process = subprocess.Popen(
        argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output = Output(process)
    prometheus = f"http://127.0.0.1:{ports['prometheus']}"
    service = f"http://127.0.0.1:{ports['service']}"
    try:
        output.wait_for(r"Backfilled the last 60 minutes of demo traffic", 60)
        output.wait_for(r"status page\s+http://", 120)

        # An hour of samples (one every 5 s) per model, all older than the launcher.
        expr = 'count_over_time(request_duration_seconds_count{job="llm-gateway"}[1h])'
        counts = query(prometheus, expr, launched)
        assert set(counts) == MODELS
        assert all(n >= 0.95 * 3600 / 5 for n in counts.values()), counts
        early = 'count_over_time(request_duration_seconds_count{job="llm-gateway"}[5m])'
        counts = query(prometheus, early, launched - 3300)  # 55 minutes before the launch
        assert set(counts) == MODELS
        assert all(n >= 55 for n in counts.values()), counts

        # What a newcomer sees first: the status page's default chart, full for every model.
        params = {"duration": "1h", "step": "1m", "end": str(launched)}
        body = httpx.get(f"{service}/api/metrics/p95/range/", params=params, timeout=30).json()
        points = {
            s["model"]: sum(p["p95_latency_ms"] is not None for p in s["data_points"])
            for s in body["data"]
        }
        assert set(points) == MODELS
        assert all(n >= 55 for n in points.values()), points  # of 61; the first 5m are empty

        # Live scrapes continue the same series rather than adding a second set.
        output.wait_for(r"Live numbers are in", 60)
        series, fresh = live_series(prometheus, launched)
        assert series == dict.fromkeys(MODELS, 1.0), series
        assert set(fresh) == MODELS, fresh
        assert all(t > launched for t in fresh.values()), fresh

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=40) == 0
    finally:
        stop_process(process)
        assert process.stdout is not None
        process.stdout.close()
