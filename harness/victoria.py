"""Start a real single-node VictoriaMetrics (Debian's package) on a free loopback port.

data = Dataset(...)
with VictoriaMetricsServer.loaded(tmp_path, data.openmetrics()) as vm:
    httpx.get(vm.prometheus_url + "/api/v1/query", params={"query": "up"})

VictoriaMetrics serves Prometheus's query API both at its root and under
``/prometheus``; ``prometheus_url`` is the prefixed one, as most deployments use it.
Samples are imported through ``/api/v1/import/prometheus`` (the Prometheus text
format, timestamps in milliseconds) and made visible with ``/internal/force_flush``.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx

from harness.processes import ServerProcess, free_port, log_tail, wait_for_http

VICTORIA_METRICS = shutil.which("victoria-metrics") or "/usr/bin/victoria-metrics"


def prometheus_text(openmetrics: str) -> str:
    """OpenMetrics text (timestamps in seconds, ``# EOF``) as the Prometheus text format
    that ``/api/v1/import/prometheus`` takes (timestamps in milliseconds)."""
    return "".join(f"{line}\n" for line in _sample_lines(openmetrics))


def _sample_lines(openmetrics: str) -> Iterator[str]:
    for line in openmetrics.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        # The labels may hold spaces; the value and timestamp come after the last brace.
        head, brace, tail = line.rpartition("}")
        fields = tail.split()
        if len(fields) == 2:
            stamp = round(float(fields[1]) * 1000)
            yield f"{head}{brace} {fields[0]} {stamp}"
        else:
            yield line  # no timestamp: VictoriaMetrics stamps it with the current time


class VictoriaMetricsServer(ServerProcess):
    """A single-node VictoriaMetrics process with its own data directory.

    ``-retentionPeriod=100y`` keeps samples of any age; ``-search.disableCache`` keeps
    the rollup cache from answering with what it saw before an import;
    ``-search.latencyOffset=0s`` makes the newest points visible at once, so the same
    query gives the same answer whenever it is asked.
    """

    def __init__(
        self, workdir: Path, *, port: int | None = None, openmetrics: str | None = None
    ) -> None:
        self.workdir = workdir
        self.openmetrics = openmetrics  # imported at the first start; kept on disk after
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.prometheus_url = self.url + "/prometheus"
        self.data_dir = workdir / "victoria-metrics-data"
        self.log_path = workdir / "victoria-metrics.log"
        self.process: subprocess.Popen[bytes] | None = None

    @classmethod
    def loaded(cls, workdir: Path, openmetrics: str) -> VictoriaMetricsServer:
        """A server that imports ``openmetrics`` as soon as it has started."""
        return cls(workdir, openmetrics=openmetrics)

    def command(self) -> list[str]:
        return [
            VICTORIA_METRICS,
            f"-httpListenAddr=127.0.0.1:{self.port}",
            f"-storageDataPath={self.data_dir}",
            "-retentionPeriod=100y",
            "-search.disableCache",
            "-search.latencyOffset=0s",
            "-loggerLevel=WARN",
        ]

    def start(self, timeout: float = 60) -> VictoriaMetricsServer:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        wait_for_http(self.url + "/health", self.process, self.log_path, timeout=timeout)
        if self.openmetrics is not None:
            self.import_openmetrics(self.openmetrics)
            self.openmetrics = None
        return self

    def import_openmetrics(self, openmetrics: str, timeout: float = 120) -> None:
        """Import ``openmetrics`` and flush it, so the next query sees every sample."""
        response = httpx.post(
            self.url + "/api/v1/import/prometheus",
            content=prometheus_text(openmetrics).encode(),
            headers={"Content-Type": "text/plain"},
            timeout=timeout,
        )
        self._check(response)
        self.flush()

    def flush(self) -> None:
        """Write the in-memory buffers out, so queries see what was imported."""
        self._check(httpx.get(self.url + "/internal/force_flush", timeout=60))

    def _check(self, response: httpx.Response) -> None:
        if response.status_code >= 300:
            raise RuntimeError(
                f"VictoriaMetrics answered {response.request.url.path} with HTTP "
                f"{response.status_code}: {response.text[:500]}\n{log_tail(self.log_path)}"
            )
