"""Dead workers' metric files folded into one archive per kind, so the directory stays small.

In multiprocess mode each worker writes ``<kind>_<pid>.db`` files; a restarted worker
has a new pid and new files, and the old ones stay, read again at every scrape: the
directory grows with every restart. A dead worker's counts happened, so they cannot
just be deleted (the fleet's counters would go down, which Prometheus reads as a
reset). Here each dead worker's values are added into ``<kind>_archive.db``
(counters, histograms, summaries and ``sum`` gauges add; ``max`` / ``min`` gauges keep
the extreme), the ``live*`` gauges are dropped with prometheus-client's
``mark_process_dead``, and the worker's files are removed. prometheus-client's
collector reads the archives like any other worker's file.

    fold_dead_workers(Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]), is_alive=psutil.pid_exists)
"""

from __future__ import annotations

import fcntl
import os
import re
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from prometheus_client.metrics_core import Metric
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

ARCHIVE = "archive"
LOCK_NAME = ".archive.lock"
# `counter_123.db`, `histogram_123.db`, `gauge_max_123.db`, `gauge_livesum_123.db`
_WORKER_FILE = re.compile(r"^(?P<kind>[a-z]+(?:_[a-z]+)?)_(?P<pid>\d+)\.db$")
Combine = Callable[[float, float], float]
_COMBINE: dict[str, Combine] = {
    "counter": lambda a, b: a + b,
    "histogram": lambda a, b: a + b,
    "summary": lambda a, b: a + b,
    "gauge_sum": lambda a, b: a + b,
    "gauge_max": max,
    "gauge_min": min,
}


def dead_worker_files(directory: Path, is_alive: Callable[[int], bool]) -> dict[int, list[str]]:
    """Per dead pid, the names of its files in ``directory``."""
    found: dict[int, list[str]] = {}
    for name in _names(directory):
        match = _WORKER_FILE.match(name)
        if match and not is_alive(int(match["pid"])):
            found.setdefault(int(match["pid"]), []).append(name)
    return found


def fold_dead_workers(directory: Path, is_alive: Callable[[int], bool]) -> int:
    """Fold every dead worker's files into the archives; the number of files removed.

    Workers scrape concurrently, so the folding holds a lock on the directory: a dead
    worker's values are added once.
    """
    removed = 0
    with _locked(directory):
        for pid, names in dead_worker_files(directory, is_alive).items():
            mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]
            for name in names:
                removed += _fold(directory, name)
    return removed


def _fold(directory: Path, name: str) -> int:
    path = directory / name
    if not path.exists():
        return 0  # a live gauge, removed by mark_process_dead
    kind = name.rsplit("_", 1)[0]
    combine = _COMBINE.get(kind)
    if combine is not None:
        _add_into(directory / f"{kind}_{ARCHIVE}.db", path, combine)
    path.unlink(missing_ok=True)  # other gauge modes (`all`, `mostrecent`) are per process
    return 1


def _add_into(archive: Path, dead: Path, combine: Combine) -> None:
    try:
        values = _read(dead)
    except (OSError, ValueError, struct.error):
        return  # not a metrics file prometheus-client could read either
    existing = {key for key, *_ in _read(archive)} if archive.exists() else set()
    target = MmapedDict(str(archive))  # type: ignore[no-untyped-call]
    try:
        for key, value, timestamp, _ in values:
            if key in existing:
                old, _ = target.read_value(key)  # type: ignore[no-untyped-call]
                value = combine(old, value)
            target.write_value(key, value, timestamp)  # type: ignore[no-untyped-call]
    finally:
        target.close()  # type: ignore[no-untyped-call]


def _read(path: Path) -> list[tuple[str, float, float, int]]:
    return list(MmapedDict.read_all_values_from_file(str(path)))  # type: ignore[no-untyped-call]


class LockedCollector:
    """prometheus-client's ``MultiProcessCollector``, reading while no worker folds (a
    file folded away, or an archive half written, mid-read would fail the scrape)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._inner = MultiProcessCollector(None, path=str(directory))  # type: ignore[no-untyped-call]

    def collect(self) -> Iterator[Metric]:
        with _locked(self.directory, shared=True):
            metrics: list[Metric] = list(self._inner.collect())  # type: ignore[no-untyped-call]
        yield from metrics


@contextmanager
def _locked(directory: Path, *, shared: bool = False) -> Iterator[None]:
    with open(directory / LOCK_NAME, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _names(directory: Path) -> list[str]:
    try:
        return os.listdir(directory)
    except OSError:
        return []
