"""The container image, built and run by a real Docker engine: part of `make test`.

Nothing here skips under CI=true. The engine is Debian's docker.io (installed by
scripts/install-system.sh when missing, and started here when no daemon answers; the
daemon this module started is stopped at the end). No image registry is reachable, so the
image is built on a local Debian base (scripts/build-base-image.sh, once per machine):

    docker build --network host --build-arg BASE_IMAGE=mla-base:bookworm .

Every container runs with `--network host` on a free loopback port, against the suite's
backfilled Prometheus (and a real redis-server) on 127.0.0.1. Containers and the service
image made here are removed at the end; the base image stays.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from harness.processes import free_port, log_tail, stop_process
from harness.prometheus import PrometheusServer
from harness.redis import REDIS_SERVER, RedisServer
from tests.deploy.kit import ROOT
from tests.support.dataset import END

pytestmark = pytest.mark.prometheus

BASE_IMAGE = os.environ.get("MLA_BASE_IMAGE", "mla-base:bookworm")
ENGINE_PACKAGES = ("docker.io", "docker-compose", "debootstrap")
STOP_GRACE = 10


def unavailable(message: str) -> None:
    """Outside CI and without root a missing engine skips; everywhere else it fails."""
    if os.environ.get("CI") or os.geteuid() == 0:
        pytest.fail(message)
    pytest.skip(message)  # outside CI only, and only where nothing can be installed


def docker(*args: str, timeout: float = 120, check: bool = True) -> str:
    result = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and result.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args)}:\n{result.stdout[-2000:]}{result.stderr}")
    return result.stdout.strip()


def engine_answers() -> bool:
    try:
        return docker("info", "--format", "{{.ServerVersion}}", timeout=20, check=False) != ""
    except (OSError, subprocess.TimeoutExpired):
        return False


@dataclass
class DockerEngine:
    """The Docker daemon, shared by test_docker.py and test_compose.py: started on first use
    when none answers, stopped after the last user when it was started here. Images built
    through it are cached by tag for the session and removed with the engine's last user."""

    log: Path = Path("/tmp/mla-dockerd.log")
    users: int = 0
    process: subprocess.Popen[bytes] | None = None
    images: dict[str, str] = field(default_factory=dict)

    def acquire(self) -> DockerEngine:
        if self.users == 0:
            self._ensure_installed()
            if not engine_answers():
                self._start()
        self.users += 1
        return self

    def release(self) -> None:
        self.users -= 1
        if self.users > 0:
            return
        for tag in self.images.values():
            docker("rmi", "--force", tag, check=False)
        self.images.clear()
        if self.process is not None:
            stop_process(self.process, grace=30)
            self.process = None

    def _ensure_installed(self) -> None:
        if all(shutil.which(b) for b in ("dockerd", "docker", "docker-compose", "debootstrap")):
            return
        if os.geteuid() != 0 and not shutil.which("sudo"):
            unavailable("Docker is not installed and cannot be installed without root")
        subprocess.run(
            [str(ROOT / "scripts" / "install-system.sh"), *ENGINE_PACKAGES],
            check=True,
            timeout=900,
        )

    def _start(self) -> None:
        if os.geteuid() != 0:
            unavailable("no Docker daemon answers and starting one needs root")
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                ["dockerd"], stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dockerd exited:\n{log_tail(self.log)}")
            if engine_answers():
                return
            time.sleep(0.5)
        raise RuntimeError(f"dockerd did not answer within 60s:\n{log_tail(self.log)}")

    def base_image(self) -> str:
        """The local Debian base (built once per machine, kept)."""
        subprocess.run(
            [str(ROOT / "scripts" / "build-base-image.sh"), BASE_IMAGE], check=True, timeout=1200
        )
        return BASE_IMAGE

    def build(self, key: str, context: Path, dockerfile: Path | None = None) -> str:
        """`docker build --network host` on the local base, once per session per key."""
        if key not in self.images:
            tag = f"mla-test/{key}:{uuid.uuid4().hex[:8]}"
            args = ["build", "--network", "host", "--build-arg", f"BASE_IMAGE={self.base_image()}"]
            if dockerfile is not None:
                args += ["--file", str(dockerfile)]
            docker(*args, "--tag", tag, str(context), timeout=900)
            self.images[key] = tag
        return self.images[key]


ENGINE = DockerEngine()


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[DockerEngine]:
    yield ENGINE.acquire()
    ENGINE.release()


@pytest.fixture(scope="session")
def service_image(docker_engine: DockerEngine) -> str:
    return docker_engine.build("model-latency-api", ROOT)


@dataclass
class Container:
    name: str
    url: str

    def logs(self) -> str:
        result = subprocess.run(
            ["docker", "logs", "--tail", "60", self.name], capture_output=True, text=True
        )
        return result.stdout + result.stderr

    def state(self, template: str) -> str:
        return docker("inspect", "--format", template, self.name)

    def wait_until(self, path: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.state("{{.State.Running}}") != "true":
                raise RuntimeError(f"{self.name} exited:\n{self.logs()}")
            try:
                if httpx.get(self.url + path, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.url}{path} did not answer within {timeout}s:\n{self.logs()}")


@contextmanager
def running(image: str, env: dict[str, str], *options: str) -> Iterator[Container]:
    """`docker run -d --network host` with PORT set to a free port, removed afterwards."""
    port = free_port()
    name = f"mla-test-{uuid.uuid4().hex[:10]}"
    flags = [f"--env={key}={value}" for key, value in {"PORT": str(port), **env}.items()]
    docker("run", "--detach", "--name", name, "--network", "host", *flags, *options, image)
    container = Container(name, f"http://127.0.0.1:{port}")
    try:
        container.wait_until("/health/live")
        yield container
    finally:
        docker("rm", "--force", name, check=False)


def prometheus_p95_ms(prometheus: PrometheusServer) -> dict[str, float | None]:
    """Prometheus's own histogram_quantile, per model, in milliseconds (NaN -> None)."""
    query = (
        "histogram_quantile(0.95, sum by (model, le) (rate(request_duration_seconds_bucket[5m])))"
    )
    body = httpx.get(
        prometheus.url + "/api/v1/query", params={"query": query, "time": END}, timeout=10
    ).json()
    answer: dict[str, float | None] = {}
    for sample in body["data"]["result"]:
        value = float(sample["value"][1])
        answer[sample["metric"]["model"]] = None if math.isnan(value) else value * 1000
    return answer


def test_the_container_answers_p95_equal_to_prometheus_histogram_quantile(
    service_image: str, prometheus: PrometheusServer
) -> None:
    with running(service_image, {"PROMETHEUS_URL": prometheus.url}) as container:
        response = httpx.get(container.url + "/api/metrics/p95/", params={"time": END}, timeout=30)
    assert response.status_code == 200, response.text
    served = {item["model"]: item["p95_latency_ms"] for item in response.json()["data"]}
    expected = prometheus_p95_ms(prometheus)
    assert served.keys() == expected.keys()
    assert any(value is not None and value > 0 for value in served.values())
    for model, value in expected.items():
        if value is None:
            assert served[model] is None, model
        else:
            assert served[model] == pytest.approx(value, rel=1e-9), model


def test_runs_as_a_non_root_user_and_turns_healthy_on_a_non_default_port(
    service_image: str, prometheus: PrometheusServer
) -> None:
    # The image's own HEALTHCHECK command, asked every second: it must probe PORT, not 8000.
    with running(
        service_image, {"PROMETHEUS_URL": prometheus.url}, "--health-interval=1s"
    ) as container:
        assert not container.url.endswith(":8000")
        assert docker("exec", container.name, "id", "-u") != "0"
        deadline = time.monotonic() + 30
        while (status := container.state("{{.State.Health.Status}}")) != "healthy":
            assert status != "unhealthy", container.state("{{json .State.Health}}")
            assert time.monotonic() < deadline, container.state("{{json .State.Health}}")
            time.sleep(0.5)


def test_read_only_root_with_two_workers_serves_metrics(
    service_image: str, prometheus: PrometheusServer
) -> None:
    with running(
        service_image,
        {"PROMETHEUS_URL": prometheus.url, "WORKERS": "2"},
        "--read-only",
        "--tmpfs=/tmp",
    ) as container:
        for _ in range(4):
            assert httpx.get(container.url + "/health/live", timeout=5).status_code == 200
        metrics = httpx.get(container.url + "/metrics", timeout=10)
        files = docker("exec", container.name, "sh", "-c", "ls /tmp/*/")
    assert metrics.status_code == 200
    assert "# TYPE" in metrics.text
    assert ".db" in files  # prometheus-client's multiprocess files, on the tmpfs


def test_sigterm_stops_the_container_within_ten_seconds(
    service_image: str, prometheus: PrometheusServer
) -> None:
    with running(service_image, {"PROMETHEUS_URL": prometheus.url}) as container:
        started = time.monotonic()
        docker("stop", "--time", str(STOP_GRACE), container.name, timeout=60)
        elapsed = time.monotonic() - started
        exit_code = container.state("{{.State.ExitCode}}")
    assert elapsed < STOP_GRACE, f"stopped after {elapsed:.1f}s (SIGKILL at {STOP_GRACE}s)"
    assert exit_code == "0", f"exit code {exit_code}: not a clean shutdown"


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    if not Path(REDIS_SERVER).exists():
        subprocess.run(
            [str(ROOT / "scripts" / "install-system.sh"), "redis-server"], check=True, timeout=600
        )
    with RedisServer(tmp_path) as server:
        yield server


def test_two_containers_share_one_redis_cache(
    service_image: str, prometheus: PrometheusServer, redis_server: RedisServer
) -> None:
    env = {
        "PROMETHEUS_URL": prometheus.url,
        "SHARED_CACHE_URL": redis_server.url,
        "CACHE_TTL_SECONDS": "300",
    }
    path = "/api/metrics/p95/?model=gpt-4"
    with running(service_image, env) as first, running(service_image, env) as second:
        miss = httpx.get(first.url + path, timeout=30)
        hit = httpx.get(second.url + path, timeout=30)
    assert miss.status_code == hit.status_code == 200
    assert miss.headers["X-Cache"] == "MISS"
    assert hit.headers["X-Cache"] == "HIT"
    assert hit.json() == miss.json()
