"""GET /metrics: the names dashboards rely on, with their types and labels; promtool-clean."""

from __future__ import annotations

import asyncio
import subprocess

import httpx
import pytest
from prometheus_client import values
from prometheus_client.parser import text_string_to_metric_families

from app import __version__
from app.observability import multiprocess
from harness.prometheus import PROMTOOL
from tests.conftest import require_binary
from tests.observability.conftest import fake_settings, serve

EXPECTED = {
    # family name as the parser reports it: (type, label names of its main samples)
    "http_requests": ("counter", {"handler", "method", "status"}),
    "http_request_duration_seconds": ("histogram", {"handler", "method"}),
    "http_requests_in_progress": ("gauge", {"handler", "method"}),
    "model_latency_upstream_queries": ("counter", {"outcome"}),
    "model_latency_upstream_query_duration_seconds": ("histogram", {"outcome"}),
    "model_latency_cache_hits": ("counter", set()),
    "model_latency_cache_misses": ("counter", set()),
    "model_latency_cache_coalesced": ("counter", set()),
    "model_latency_cache_entries": ("gauge", set()),
    "model_latency_build_info": ("gauge", {"version"}),
    "process_resident_memory_bytes": ("gauge", set()),
    "process_cpu_seconds": ("counter", set()),
    "process_start_time_seconds": ("gauge", set()),
}
SEED_003_BOUNDS = {"0.01", "0.05", "0.1", "0.5", "1.0", "5.0", "10.0", "30.0", "+Inf"}


async def scrape(fake) -> httpx.Response:
    async with serve(fake_settings(), httpx.MockTransport(fake)) as svc:
        await svc.client.get("/api/metrics/p95")
        await svc.client.get("/api/metrics/p95/")
        await svc.client.get("/no/such/page")
        await svc.client.get("/health")
        return await svc.client.get("/metrics")


async def test_exposition_has_every_documented_family(fake):
    response = await scrape(fake)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    for name, (kind, labels) in EXPECTED.items():
        assert name in families, name
        assert families[name].type == kind, name
        main = [s for s in families[name].samples if not s.name.endswith(("_bucket", "_created"))]
        assert main, name
        assert {frozenset(s.labels) for s in main} == {frozenset(labels)}, name
    assert not [n for n in families if n.endswith("_created")]


async def test_duration_buckets_include_seed_003s_bounds(fake):
    text = (await scrape(fake)).text
    family = next(
        f for f in text_string_to_metric_families(text) if f.name == "http_request_duration_seconds"
    )
    bounds = {s.labels["le"] for s in family.samples if s.name.endswith("_bucket")}
    assert bounds >= SEED_003_BOUNDS


async def test_build_info_names_the_version(fake):
    text = (await scrape(fake)).text
    build = next(f for f in text_string_to_metric_families(text) if f.name.endswith("build_info"))
    assert [(s.labels, s.value) for s in build.samples] == [({"version": __version__}, 1.0)]


async def test_the_scrape_itself_and_trailing_slashes_share_labels(fake):
    text = (await scrape(fake)).text
    handlers = {
        s.labels["handler"]
        for f in text_string_to_metric_families(text)
        if f.name == "http_requests"
        for s in f.samples
    }
    # /metrics is counted once its own request ends, so the first scrape does not show it.
    assert handlers == {"/api/metrics/p95/", "unmatched", "/health"}


def promtool_check(text: str) -> subprocess.CompletedProcess[str]:
    """``promtool check metrics`` on ``text``; silent with status 0 when nothing is wrong."""
    return subprocess.run(
        [PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60
    )


async def test_promtool_finds_no_problem(fake):
    require_binary(PROMTOOL)
    text = (await scrape(fake)).text
    result = await asyncio.to_thread(promtool_check, text)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_a_multiprocess_dir_that_cannot_work_stops_start_up(monkeypatch, tmp_path):
    monkeypatch.setenv(multiprocess.ENV, str(tmp_path / "missing"))
    with pytest.raises(RuntimeError, match="not a directory"):
        multiprocess.configured_dir()
    monkeypatch.setenv(multiprocess.ENV, str(tmp_path))
    assert values.ValueClass is values.MutexValue  # this process imported it without the var
    with pytest.raises(RuntimeError, match="set after prometheus_client was imported"):
        multiprocess.configured_dir()


def test_single_process_mode_without_the_variable(monkeypatch):
    monkeypatch.delenv(multiprocess.ENV, raising=False)
    monkeypatch.delenv(multiprocess.ENV.lower(), raising=False)
    assert multiprocess.configured_dir() is None


def test_dead_workers_lose_their_live_gauges_and_their_files(tmp_path):
    # (Their counts are kept in the archives: tests/observability/test_worker_restarts.py.)
    dead, alive = 2**22 + 12345, __import__("os").getpid()
    for name in (f"gauge_livesum_{dead}.db", f"counter_{dead}.db", f"gauge_livesum_{alive}.db"):
        (tmp_path / name).write_bytes(b"")
    multiprocess.reap_dead_workers(tmp_path)
    assert sorted(p.name for p in tmp_path.glob("*.db")) == [f"gauge_livesum_{alive}.db"]
    assert multiprocess.worker_pids(tmp_path) == {alive}
