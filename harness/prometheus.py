"""Start a real Prometheus (Debian's package) on a free loopback port.

data = Dataset(...)
with PrometheusServer.backfilled(tmp_path, data.openmetrics()) as prom:
    httpx.get(prom.url + "/api/v1/query", params={"query": "up"})
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import IO

from harness.processes import ServerProcess, free_port, wait_for_http

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"


def backfill(openmetrics: str, workdir: Path) -> Path:
    """Write ``openmetrics`` into a TSDB directory with promtool and return it."""
    source = workdir / "data.om"
    source.write_text(openmetrics)
    data_dir = workdir / "tsdb"
    data_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", str(source), str(data_dir)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return data_dir


class PrometheusServer(ServerProcess):
    """A Prometheus process; stop() kills it (used to test an unreachable upstream)."""

    extra_flags: tuple[str, ...] = ()

    def __init__(
        self, workdir: Path, data_dir: Path, *, config: str | None = None, port: int | None = None
    ) -> None:
        self.workdir = workdir
        self.data_dir = data_dir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config_path = workdir / "prometheus.yml"
        self.config_path.write_text(config or "global:\n  scrape_interval: 15s\n")
        self.log_path = workdir / "prometheus.log"
        self.process: subprocess.Popen[bytes] | None = None

    @classmethod
    def backfilled(cls, workdir: Path, openmetrics: str, **kwargs: object) -> PrometheusServer:
        return cls(workdir, backfill(openmetrics, workdir), **kwargs)  # type: ignore[arg-type]

    def start(self, timeout: float = 60) -> PrometheusServer:
        with self.log_path.open("ab") as log:
            self.process = self._spawn(log)
        self.wait_ready(timeout)
        return self

    def _spawn(self, log: IO[bytes]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={self.config_path}",
                f"--storage.tsdb.path={self.data_dir}",
                "--storage.tsdb.retention.time=3650d",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--web.enable-lifecycle",
                "--query.lookback-delta=5m",
                *self.extra_flags,
            ],
            stdout=log,
            stderr=log,
        )

    def wait_ready(self, timeout: float) -> None:
        assert self.process is not None
        wait_for_http(self.url + "/-/ready", self.process, self.log_path, timeout=timeout)
