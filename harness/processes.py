"""Child processes the tests and the benchmark start: a free port, uvicorn serving an app,
waiting until a process answers over HTTP, and stopping it for sure."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def log_tail(log: Path | None, chars: int = 3000) -> str:
    return "" if log is None else log.read_text(errors="replace")[-chars:]


def wait_for_http(
    url: str,
    process: subprocess.Popen[bytes],
    log: Path | None = None,
    *,
    timeout: float = 60.0,
    interval: float = 0.2,
) -> None:
    """Return once ``url`` answers 200; raise with the log's end if the process exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the process exited:\n{log_tail(log)}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(interval)
    raise RuntimeError(f"{url} did not answer within {timeout}s:\n{log_tail(log)}")


def stop_process(
    process: subprocess.Popen[Any], *, group: bool = False, grace: float = 20.0
) -> None:
    """SIGTERM (the whole process group with ``group``), then SIGKILL after ``grace`` seconds."""
    if process.poll() is not None:
        return

    def send(sig: signal.Signals) -> None:
        if group:
            os.killpg(process.pid, sig)
        else:
            process.send_signal(sig)

    send(signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        send(signal.SIGKILL)
        process.wait(timeout=10)


@dataclass
class Service:
    """A running uvicorn: where it answers, its process and its log."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def rss(self) -> int:
        return int(psutil.Process(self.process.pid).memory_info().rss)

    def log_tail(self) -> str:
        return log_tail(self.log)


@contextmanager
def uvicorn_app(
    log: Path,
    env: dict[str, str],
    *,
    app: str = "app.main:app",
    ready_path: str = "/health/live",
    uvicorn_args: Sequence[str] = ("--no-access-log", "--log-level", "warning"),
) -> Iterator[Service]:
    """``uvicorn <app>`` (one worker) on a free loopback port, configured only through its
    environment, until the block ends."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*command, *uvicorn_args],
            cwd=ROOT,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    service = Service(f"http://127.0.0.1:{port}", process, log)
    try:
        wait_for_http(service.url + ready_path, process, log)
        yield service
    finally:
        stop_process(process)


class ServerProcess:
    """A server the harness starts: ``start()`` returns it running; use it in a ``with``
    block or ``stop()`` it (SIGTERM, then SIGKILL after ``stop_grace`` seconds)."""

    process: subprocess.Popen[bytes] | None = None
    stop_grace: float = 20.0

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, grace=self.stop_grace)
        self.process = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
