"""Worker restarts do not grow the multiprocess directory, and lose no counts.

Real processes write metrics in prometheus-client's multiprocess mode and exit, as
workers that uvicorn restarts do; one stays alive. A scrape (``collection_registry``)
must leave the directory holding the live worker's files and one archive per kind, not
every dead worker's (it grew from 8 to 124 files after 40 restarts), while the sums
still count every dead worker's increments: each worker adds known amounts, so the
expected totals are the number of workers times them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.observability.multiprocess import collection_registry

RESTARTS = 24
WORKER = """
import sys
from prometheus_client import Counter, Gauge, Histogram
Counter("jobs_total", "Jobs.", ["kind"]).labels("a").inc(3)
histogram = Histogram("wait_seconds", "Waits.", buckets=(0.1, 1.0))
histogram.observe(0.05)
histogram.observe(0.5)
Gauge("build_info", "Build.", multiprocess_mode="max").set(1)
Gauge("busy", "Busy.", multiprocess_mode="livesum").set(2)
print("ready", flush=True)
if sys.argv[1] == "stay":
    sys.stdin.read()
"""


def worker(directory: Path, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, mode],
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def restarted(tmp_path: Path) -> Iterator[Path]:
    """A directory after RESTARTS workers came and went, with one worker still running."""
    directory = tmp_path / "multiproc"
    directory.mkdir()
    for batch in range(0, RESTARTS, 6):
        dead = [worker(directory, "exit") for _ in range(min(6, RESTARTS - batch))]
        for process in dead:
            process.communicate(input="", timeout=60)
            assert process.returncode == 0
    alive = worker(directory, "stay")
    assert alive.stdout is not None
    assert alive.stdout.readline().strip() == "ready"
    try:
        yield directory
    finally:
        alive.communicate(input="", timeout=30)


def value(directory: Path, name: str, labels: dict[str, str] | None = None) -> float | None:
    return collection_registry(directory).get_sample_value(name, labels or {})


def db_files(directory: Path) -> list[str]:
    return sorted(name for name in os.listdir(directory) if name.endswith(".db"))


def test_a_scrape_leaves_the_live_worker_and_one_archive_per_kind(restarted: Path) -> None:
    before = db_files(restarted)
    assert len(before) >= 4 * (RESTARTS + 1)  # every worker wrote four files
    collection_registry(restarted)
    after = db_files(restarted)
    assert len(after) <= 4 + 3, after  # the live worker's four; counter, histogram, max
    assert {"counter_archive.db", "histogram_archive.db", "gauge_max_archive.db"} <= set(after)


def test_dead_workers_counts_stay_in_the_sums_once(restarted: Path) -> None:
    workers = RESTARTS + 1
    for _ in range(3):  # every scrape folds what is dead; none folds anything twice
        assert value(restarted, "jobs_total", {"kind": "a"}) == 3 * workers
        assert value(restarted, "wait_seconds_count") == 2 * workers
        assert value(restarted, "wait_seconds_sum") == pytest.approx(0.55 * workers)
        assert value(restarted, "wait_seconds_bucket", {"le": "0.1"}) == workers
        assert value(restarted, "build_info") == 1
        assert value(restarted, "busy") == 2  # the live worker's alone
