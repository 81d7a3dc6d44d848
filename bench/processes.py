"""Start and stop the processes under test: Prometheus and single-worker uvicorn apps."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.processes import Service, uvicorn_app
from harness.prometheus import PROMTOOL, PrometheusServer


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
def uvicorn(app: str, env: dict[str, str], log: Path, ready_path: str) -> Iterator[Service]:
    """``uvicorn <app>`` with one worker on a free loopback port, until the block ends."""
    with uvicorn_app(log, env, app=app, ready_path=ready_path) as service:
        yield service
