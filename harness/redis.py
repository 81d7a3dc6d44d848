"""Start a real Redis (Debian's redis-server) on a free loopback port, without persistence.

    with RedisServer(workdir) as redis:
        env = {"SHARED_CACHE_URL": redis.url}
        redis.stop()     # Redis is gone: the replicas must fall back
        redis.start()    # back on the same port: sharing must resume

Shared by the benchmark (bench/fleet.py) and, once they point here, the fleet tests.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from harness.processes import ServerProcess, free_port, log_tail

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def answers_ping(port: int) -> bool:
    """True if a Redis on ``127.0.0.1:port`` answers PING (a password-protected one refuses)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            reply = sock.recv(64)
    except OSError:
        return False
    return reply.startswith((b"+PONG", b"-NOAUTH"))  # NOAUTH: up, and wants a password


class RedisServer(ServerProcess):
    """One redis-server process; ``stop()`` and ``start()`` again keep the port and URL."""

    stop_grace = 5.0

    def __init__(
        self, workdir: Path, *, port: int | None = None, password: str | None = None
    ) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.password = password
        auth = "" if password is None else f":{password}@"
        self.url = f"redis://{auth}127.0.0.1:{self.port}/0"
        self.log_path = workdir / f"redis-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 20.0) -> RedisServer:
        command = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.workdir)]
        if self.password is not None:
            command += ["--requirepass", self.password]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited:\n{log_tail(self.log_path)}")
            if answers_ping(self.port):
                return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer PING:\n{log_tail(self.log_path)}")

    def restart(self) -> RedisServer:
        self.stop()
        return self.start()
