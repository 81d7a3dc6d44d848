"""Start a real Prometheus (Debian's package) on a free loopback port.

data = Dataset(...)
with PrometheusServer.backfilled(tmp_path, data.openmetrics()) as prom:
    httpx.get(prom.url + "/api/v1/query", params={"query": "up"})
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import IO

import httpx

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


class PrometheusServer:
    """A Prometheus process; stop() kills it (used to test an unreachable upstream)."""

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
            ],
            stdout=log,
            stderr=log,
        )

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"prometheus exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/-/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(
            f"prometheus not ready in {timeout}s: {self.log_path.read_text()[-2000:]}"
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def __enter__(self) -> PrometheusServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
