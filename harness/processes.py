"""Child processes the tests, the benchmark and the demo start: a free port, uvicorn serving
an app, waiting until a process is ready, and stopping it for sure."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
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


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As the servers themselves do: a port whose last connections linger in
        # TIME_WAIT is free to listen on, one with a listener is not.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def log_tail(log: Path | None, chars: int = 3000) -> str:
    return "" if log is None else log.read_text(errors="replace")[-chars:]


def _nothing() -> None:
    pass


def poll_until(
    ready: Callable[[], bool],
    *,
    timeout: float,
    interval: float = 0.2,
    check: Callable[[], None] = _nothing,
) -> bool:
    """Ask ``ready`` every ``interval`` seconds until it holds (True) or ``timeout`` passes
    (False); an HTTP error counts as not yet. ``check`` runs before each try and may raise
    (a child process that died)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        check()
        with contextlib.suppress(httpx.HTTPError):
            if ready():
                return True
        time.sleep(interval)
    return False


def wait_for_http(
    url: str,
    process: subprocess.Popen[bytes],
    log: Path | None = None,
    *,
    timeout: float = 60.0,
    interval: float = 0.2,
) -> None:
    """Return once ``url`` answers 200; raise with the log's end if the process exits first."""

    def alive() -> None:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the process exited:\n{log_tail(log)}")

    def answers() -> bool:
        return httpx.get(url, timeout=2).status_code == 200

    if not poll_until(answers, timeout=timeout, interval=interval, check=alive):
        raise RuntimeError(f"{url} did not answer within {timeout}s:\n{log_tail(log)}")


def stop_process(
    process: subprocess.Popen[Any], *, group: bool = False, grace: float = 20.0
) -> None:
    """SIGTERM (the whole process group with ``group``), then SIGKILL after ``grace`` seconds."""
    if process.poll() is not None:
        return

    def send(sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):  # it exited meanwhile
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

    def cpu_seconds(self) -> float:
        """CPU time the process has used so far, user and system, all its threads."""
        times = psutil.Process(self.process.pid).cpu_times()
        return float(times.user + times.system)

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
