"""deploy/docker-compose.yml brought up by docker compose: part of `make test`.

What can be built here comes up (the offline override, deploy/docker-compose.offline.yml):
the two API replicas and the traffic source from the repository's Dockerfile, Redis and
Prometheus from Debian's packages, all on the local base image. Grafana's image cannot be
built here (no Debian package, no registry); its files are checked in test_grafana.py.

Every port is a free one (the compose *_PORT variables); the only change to the shipped
prometheus.yml is those ports and a 1 s scrape interval, mounted by a third compose file.
The Redis and Prometheus images stay (like the base, built once per machine); the
service image, containers and volumes made here are removed.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from harness.processes import free_port
from tests.deploy import kit
from tests.deploy.test_docker import DockerEngine, docker_engine  # noqa: F401 (fixture)

pytestmark = pytest.mark.prometheus

SERVICES = ("api-1", "api-2", "traffic", "redis", "prometheus")
OFFLINE = kit.DEPLOY / "docker-compose.offline.yml"
DEFAULT_PORTS = {"API_1_PORT": 8000, "API_2_PORT": 8001, "TRAFFIC_PORT": 9101}
DEFAULT_PORTS |= {"PROMETHEUS_PORT": 9090, "REDIS_PORT": 6379}


@dataclass
class Stack:
    ports: dict[str, int]

    @property
    def prometheus(self) -> str:
        return f"http://127.0.0.1:{self.ports['PROMETHEUS_PORT']}"

    def readiness_urls(self) -> list[str]:
        local = {name: f"http://127.0.0.1:{port}" for name, port in self.ports.items()}
        apis = [local[name] + "/health/live" for name in ("API_1_PORT", "API_2_PORT")]
        return [self.prometheus + "/-/ready", *apis, local["TRAFFIC_PORT"] + "/metrics"]


def local_config(ports: dict[str, int]) -> dict[str, Any]:
    """deploy/prometheus.yml with the stack's ports and a 1 s scrape interval."""
    moved = {
        f"127.0.0.1:{DEFAULT_PORTS[name]}": f"127.0.0.1:{port}" for name, port in ports.items()
    }
    config: dict[str, Any] = kit.load_yaml(kit.PROMETHEUS_CONFIG)
    config["global"].update(scrape_interval="1s", evaluation_interval="1s", scrape_timeout="1s")
    for job in config["scrape_configs"]:
        for static in job["static_configs"]:
            static["targets"] = [moved[target] for target in static["targets"]]
    return config


def compose(project: str, files: list[Path], *args: str, env: dict[str, str]) -> str:
    argv = ["docker-compose", "--project-name", project]
    argv += [arg for path in files for arg in ("--file", str(path))]
    result = subprocess.run(
        [*argv, *args],
        cwd=kit.DEPLOY,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    return result.stdout


@pytest.fixture(scope="module")
def stack(
    docker_engine: DockerEngine,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("compose")
    ports = {name: free_port() for name in DEFAULT_PORTS}
    config = workdir / "prometheus.yml"
    config.write_text(yaml.safe_dump(local_config(ports), sort_keys=False))
    # rule_files stay relative to the config: mounted where the shipped file would be.
    mount = {"volumes": [f"{config}:/etc/prometheus/prometheus.yml:ro"]}
    override = workdir / "docker-compose.test.yml"
    override.write_text(yaml.safe_dump({"services": {"prometheus": mount}}))
    project = f"mla-test-{uuid.uuid4().hex[:8]}"
    image = f"mla-test/compose-api:{project}"
    env = {name: str(port) for name, port in ports.items()}
    env |= {"API_IMAGE": image, "BASE_IMAGE": docker_engine.base_image()}
    files = [kit.COMPOSE, OFFLINE, override]
    try:
        compose(project, files, "up", "--detach", "--build", *SERVICES, env=env)
        stack = Stack(ports)
        # Containers run before their servers listen: every test starts on a stack that answers.
        for url in stack.readiness_urls():
            wait_for(lambda url=url: answered(url), timeout=120)
        yield stack
    finally:
        try:
            logs = compose(project, files, "logs", "--tail=30", env=env)
        except RuntimeError as error:
            logs = str(error)
        compose(project, files, "down", "--volumes", "--timeout", "10", env=env)
        subprocess.run(["docker", "rmi", "--force", image], capture_output=True, check=False)
        (workdir / "compose.log").write_text(logs)
        print(logs)  # shown by pytest when a test on this stack failed


def answered(url: str) -> httpx.Response:
    """A 2xx answer from ``url``; any other status is an error, as is no answer."""
    return httpx.get(url, timeout=5).raise_for_status()


def wait_for(probe: Any, timeout: float = 90) -> Any:
    """``probe()`` until it answers something truthy; the last answer in the error."""
    deadline = time.monotonic() + timeout
    answer = None
    while time.monotonic() < deadline:
        try:
            answer = probe()
            if answer:
                return answer
        except httpx.HTTPError as error:
            answer = error
        time.sleep(1)
    raise AssertionError(f"not within {timeout}s: {answer!r}")


def test_prometheus_scrapes_both_replicas(stack: Stack) -> None:
    wanted = {f"127.0.0.1:{stack.ports[p]}" for p in ("API_1_PORT", "API_2_PORT")}

    def both_up() -> bool:
        body = answered(stack.prometheus + "/api/v1/targets").json()
        up = {
            target["labels"]["instance"]
            for target in body["data"]["activeTargets"]
            if target["labels"]["job"] == kit.SERVICE_JOB and target["health"] == "up"
        }
        return up == wanted

    wait_for(both_up)


def test_the_replicas_share_the_redis_cache(stack: Stack) -> None:
    """One replica renders, the other answers HIT from Redis. Answers are fresh until the
    end of a 5 s slot, so each try starts at a slot's beginning; on a loaded machine one
    try may still straddle a boundary (or a Redis call its 0.25 s timeout): three tries."""
    seen = []
    for attempt in range(3):
        time.sleep(5 - time.time() % 5 + 0.05)
        path = f"/api/metrics/p95/?model=compose-shared-cache-{attempt}"
        first = httpx.get(f"http://127.0.0.1:{stack.ports['API_1_PORT']}{path}", timeout=30)
        second = httpx.get(f"http://127.0.0.1:{stack.ports['API_2_PORT']}{path}", timeout=30)
        assert first.status_code == second.status_code == 200, first.text
        seen.append((first.headers["X-Cache"], second.headers["X-Cache"]))
        if seen[-1] == ("MISS", "HIT"):
            return
    raise AssertionError(f"the second replica never answered from Redis: {seen}")


def test_prometheus_loads_every_shipped_rule_group(stack: Stack) -> None:
    shipped = {
        group["name"]: len(group["rules"])
        for path in kit.rule_files()
        for group in kit.load_yaml(path)["groups"]
    }

    def loaded() -> dict[str, int]:
        body = answered(stack.prometheus + "/api/v1/rules").json()
        return {group["name"]: len(group["rules"]) for group in body["data"]["groups"]}

    assert wait_for(loaded, timeout=30) == shipped
    alerts = httpx.get(stack.prometheus + "/api/v1/rules", params={"type": "alert"}, timeout=5)
    names = {rule["name"] for group in alerts.json()["data"]["groups"] for rule in group["rules"]}
    assert names == {rule["alert"] for rule in kit.alerting_rules()}
