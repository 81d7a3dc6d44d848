"""Start and stop the processes under test: Prometheus and single-worker uvicorn apps."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil

from tests.support.prometheus import PROMTOOL, PrometheusServer, free_port


def prometheus_config(query_log: Path) -> str:
    # The query log records every query Prometheus evaluates: the upstream counts come
    # from Prometheus itself, not from the service's own account.
    return f"global:\n  scrape_interval: 15s\n  query_log_file: {query_log}\n"


def start_prometheus(workdir: Path, openmetrics_file: Path, query_log: Path) -> PrometheusServer:
    data_dir = workdir / "tsdb"
    data_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            PROMTOOL,
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            str(openmetrics_file),
            str(data_dir),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    server = PrometheusServer(workdir, data_dir, config=prometheus_config(query_log))
    return server.start()


@contextmanager
def uvicorn(app: str, env: dict[str, str], log: Path, ready_path: str) -> Iterator[Process]:
    """``uvicorn <app>`` with one worker on a free loopback port, until the block ends."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", "1", "--no-access-log", "--log-level", "warning"]
    with log.open("ab") as out:
        popen = subprocess.Popen(command, env={**os.environ, **env}, stdout=out, stderr=out)
    process = Process(popen, f"http://127.0.0.1:{port}")
    try:
        process.wait_ready(ready_path, log)
        yield process
    finally:
        process.stop()


class Process:
    def __init__(self, popen: subprocess.Popen[bytes], url: str) -> None:
        self.popen = popen
        self.url = url

    def wait_ready(self, path: str, log: Path, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.url} exited: {log.read_text()[-2000:]}")
            try:
                httpx.get(self.url + path, timeout=2)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.url} did not start in {timeout}s")

    def rss_bytes(self) -> int:
        return int(psutil.Process(self.popen.pid).memory_info().rss)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=5)
