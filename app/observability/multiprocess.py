"""prometheus-client's multiprocess mode, for ``uvicorn --workers N``.

Each worker writes its values into files under ``PROMETHEUS_MULTIPROC_DIR``; a
scrape reaches one worker, which reads every worker's files and sums them. The
directory must exist and be empty before the first worker starts, and the variable
must be set before ``prometheus_client`` is imported (scripts/serve.sh does both).

    registry = collection_registry(Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]))
    body = generate_latest(registry)
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import psutil
from prometheus_client import CollectorRegistry, values
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from app.observability.archive import LockedCollector, fold_dead_workers

ENV = "PROMETHEUS_MULTIPROC_DIR"
_PID_FILE = re.compile(r"_(\d+)\.db$")


def configured_dir() -> Path | None:
    """The multiprocess directory, or None in single-process mode.

    Raises RuntimeError when the variable is set but cannot work, so a misconfigured
    deployment fails at start-up instead of exporting one worker's numbers.
    """
    raw = os.environ.get(ENV) or os.environ.get(ENV.lower())
    if not raw:
        return None
    path = Path(raw)
    if not path.is_dir():
        raise RuntimeError(f"{ENV}={raw} is not a directory; create it before starting")
    if values.ValueClass is values.MutexValue:
        raise RuntimeError(f"{ENV} was set after prometheus_client was imported; set it earlier")
    return path


def worker_pids(directory: Path) -> set[int]:
    """Processes that wrote values into ``directory`` and are still running."""
    pids = {int(m.group(1)) for m in map(_PID_FILE.search, _names(directory)) if m}
    return {pid for pid in pids if psutil.pid_exists(pid)}


def reap_dead_workers(directory: Path) -> None:
    """Drop the live gauges of workers that exited, whether cleanly or not, and fold their
    other files into the archives (app/observability/archive.py), so the directory does
    not grow with every restart.

    uvicorn has no hook in the supervisor that runs when a worker dies, so this runs
    at each scrape; the counts of dead workers stay in the sums (they happened).
    """
    fold_dead_workers(directory, is_alive=psutil.pid_exists)


def _names(directory: Path) -> list[str]:
    try:
        return os.listdir(directory)
    except OSError:
        return []


class WorkersProcessCollector:
    """The standard ``process_*`` metrics for the whole service: all live workers.

    Memory, CPU time and open descriptors are summed (what the service costs); the
    descriptor limit is the lowest of any worker and the start time the oldest.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def collect(self) -> Iterator[Metric]:
        processes = list(_processes(worker_pids(self.directory)))
        yield _gauge("model_latency_worker_processes", "Worker processes running.", len(processes))
        stats = [s for s in map(_stats, processes) if s is not None]
        if not stats:
            return
        cpu = CounterMetricFamily(
            "process_cpu_seconds_total", "Total user and system CPU time spent in seconds."
        )
        cpu.add_metric([], sum(s["cpu"] for s in stats))
        yield cpu
        yield _gauge(
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
            sum(s["rss"] for s in stats),
        )
        yield _gauge(
            "process_virtual_memory_bytes",
            "Virtual memory size in bytes.",
            sum(s["vms"] for s in stats),
        )
        yield _gauge(
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            min(s["start"] for s in stats),
        )
        yield _gauge(
            "process_open_fds", "Number of open file descriptors.", sum(s["fds"] for s in stats)
        )
        yield _gauge(
            "process_max_fds",
            "Maximum number of open file descriptors.",
            min(s["max_fds"] for s in stats),
        )


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _processes(pids: Iterable[int]) -> Iterator[psutil.Process]:
    for pid in sorted(pids):
        try:
            yield psutil.Process(pid)
        except psutil.Error:
            continue


def _stats(process: psutil.Process) -> dict[str, float] | None:
    try:
        with process.oneshot():
            memory = process.memory_info()
            times = process.cpu_times()
            soft_limit = process.rlimit(psutil.RLIMIT_NOFILE)[0]
            return {
                "cpu": times.user + times.system,
                "rss": memory.rss,
                "vms": memory.vms,
                "start": process.create_time(),
                "fds": process.num_fds(),
                "max_fds": soft_limit,
            }
    except psutil.Error:
        return None  # the worker exited between listing and reading


def collection_registry(directory: Path) -> CollectorRegistry:
    """A fresh registry that sums every worker's files; build one per scrape."""
    reap_dead_workers(directory)
    registry = CollectorRegistry()
    registry.register(LockedCollector(directory))
    registry.register(WorkersProcessCollector(directory))
    return registry
