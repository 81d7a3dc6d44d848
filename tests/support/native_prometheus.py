"""A real Prometheus that accepts native histograms by remote write, on an empty TSDB.

    with NativePrometheus.empty(tmp_path) as prom:
        push(prom.url, series)              # tests/support/remote_write.py
        prom.query("histogram_count(rate(x[5m]))", at=end)

The TSDB refuses samples older than its newest block (and, in the head, more than an
hour before the newest sample), so feed a fresh server recent timestamps, each series
in time order: the last half hour at 15 s steps is comfortably inside.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import IO, Any

import httpx

from harness.prometheus import PROMETHEUS, PrometheusServer

NATIVE_FLAGS = ("--enable-feature=native-histograms", "--web.enable-remote-write-receiver")


class NativePrometheus(PrometheusServer):
    """PrometheusServer with native histograms and the remote-write receiver switched on."""

    @classmethod
    def empty(cls, workdir: Path, **kwargs: Any) -> NativePrometheus:
        data_dir = workdir / "tsdb"
        data_dir.mkdir(parents=True, exist_ok=True)
        return cls(workdir, data_dir, **kwargs)

    def _spawn(self, log: IO[bytes]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={self.config_path}",
                f"--storage.tsdb.path={self.data_dir}",
                "--storage.tsdb.retention.time=3650d",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--query.lookback-delta=5m",
                *NATIVE_FLAGS,
            ],
            stdout=log,
            stderr=log,
        )

    def __enter__(self) -> NativePrometheus:
        self.start()
        return self

    def query(self, promql: str, *, at: float) -> list[dict[str, Any]]:
        """An instant query's ``result`` list; raises on an error answer."""
        response = httpx.get(
            self.url + "/api/v1/query", params={"query": promql, "time": at}, timeout=30
        )
        body = response.json()
        if body.get("status") != "success":
            raise RuntimeError(f"{promql}: {body}")
        result: list[dict[str, Any]] = body["data"]["result"]
        return result
