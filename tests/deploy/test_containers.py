"""The Dockerfile and deploy/docker-compose.yml, checked without a Docker engine.

The static half of test_docker.py and test_compose.py (which build and run them): the
files parse, every path they mount or copy exists (and maps to where Prometheus and
Grafana look for it inside the containers), every service shares the host network on its
own port and finds the others there, the commands they run are the project's own
(scripts/serve.sh, the traffic source's real argument parser, the health route the app
really serves), and the image is built from the lock in the cache-friendly, unprivileged
way the issue asks for.
"""

from __future__ import annotations

import fnmatch
import http.server
import json
import re
import subprocess
import sys
import threading
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pytest

from app.settings import Settings
from harness.processes import free_port
from tests.deploy import kit

COMPOSE_COMMAND = "docker compose -f deploy/docker-compose.yml up --build"


OFFLINE = kit.DEPLOY / "docker-compose.offline.yml"
API_REPLICAS = ("api-1", "api-2")
DEFAULT = re.compile(r"\$\{(\w+):-([^}]*)\}")


def _compose() -> dict[str, Any]:
    compose: dict[str, Any] = kit.load_yaml(kit.COMPOSE)
    return compose


def _defaults(value: Any) -> Any:
    """``${VAR:-default}`` replaced by its default, as compose does with VAR unset."""
    if isinstance(value, str):
        return DEFAULT.sub(lambda m: m.group(2), value)
    if isinstance(value, list):
        return [_defaults(item) for item in value]
    if isinstance(value, dict):
        return {key: _defaults(item) for key, item in value.items()}
    return value


def _service(name: str) -> dict[str, Any]:
    service: dict[str, Any] = _defaults(_compose()["services"][name])
    return service


def _mounts(name: str) -> dict[PurePosixPath, Path]:
    """Container path -> host path of a service's bind mounts."""
    mounts = {}
    for volume in _service(name).get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("."):
            mounts[PurePosixPath(target)] = (kit.COMPOSE.parent / source).resolve()
    return mounts


def _host_path(name: str, container_path: PurePosixPath) -> Path | None:
    """Where a path inside the container comes from on the host, through the bind mounts."""
    for target, source in sorted(_mounts(name).items(), key=lambda m: -len(m[0].parts)):
        if container_path == target or target in container_path.parents:
            return source / container_path.relative_to(target)
    return None


def _instruction(name: str) -> list[str]:
    return [args for head, args in kit.dockerfile_instructions() if head == name]


def _exec_form(args: str) -> list[str]:
    parsed: list[str] = json.loads(args)
    return parsed


# --- compose ---


def test_compose_has_two_replicas_behind_redis_and_the_monitoring_services() -> None:
    services = set(_compose()["services"])
    assert services == {*API_REPLICAS, "traffic", "redis", "prometheus", "grafana"}


@pytest.mark.parametrize("name", [*API_REPLICAS, "traffic"])
def test_api_and_traffic_build_the_repository_dockerfile_on_the_host_network(name: str) -> None:
    build = _service(name)["build"]
    context = (kit.COMPOSE.parent / build["context"]).resolve()
    assert context == kit.ROOT
    assert (context / build["dockerfile"]).resolve() == kit.DOCKERFILE
    assert build["network"] == "host"


def test_every_service_shares_the_host_network_on_its_own_port() -> None:
    services = _compose()["services"]
    assert {s["network_mode"] for s in services.values()} == {"host"}
    assert not any("ports" in s for s in services.values())  # no mapping on the host network
    ports = [_port(name) for name in services]
    assert len(set(ports)) == len(ports), ports


def _port(name: str) -> int:
    service = _service(name)
    if name in API_REPLICAS:
        return int(service["environment"]["PORT"])
    if name == "grafana":
        return int(service["environment"]["GF_SERVER_HTTP_PORT"])
    command = service["command"]
    if name == "prometheus":
        [flag] = [c for c in command if c.startswith("--web.listen-address=")]
        return int(flag.rsplit(":", 1)[1])
    return int(command[command.index("--port") + 1])


@pytest.mark.parametrize("name", ["prometheus", "grafana"])
def test_every_bind_mount_exists(name: str) -> None:
    mounts = _mounts(name)
    assert mounts
    for source in mounts.values():
        assert source.exists(), source


@pytest.mark.parametrize("name", ["prometheus", "grafana", "redis"])
def test_images_are_pinned(name: str) -> None:
    image = _service(name)["image"]
    assert re.fullmatch(r"[\w./-]+:v?\d+\.\d+\.\d+", image), image


def test_prometheus_loads_the_config_and_finds_the_rules_inside_the_container() -> None:
    command = _service("prometheus")["command"]
    [config_flag] = [c for c in command if c.startswith("--config.file=")]
    config_path = PurePosixPath(config_flag.split("=", 1)[1])
    assert _host_path("prometheus", config_path) == kit.PROMETHEUS_CONFIG
    for pattern in kit.load_yaml(kit.PROMETHEUS_CONFIG)["rule_files"]:
        host = _host_path("prometheus", config_path.parent / pattern)
        assert host is not None, f"{pattern} is not mounted"
        assert sorted(host.parent.glob(host.name)) == kit.rule_files()


def test_prometheus_scrapes_both_replicas_and_the_traffic_source_on_loopback() -> None:
    config = kit.load_yaml(kit.PROMETHEUS_CONFIG)
    targets = {
        job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]
    }
    assert targets[kit.SERVICE_JOB] == [f"127.0.0.1:{_port(name)}" for name in API_REPLICAS]
    assert targets[kit.GATEWAY_JOB] == [f"127.0.0.1:{_port('traffic')}"]
    assert targets["prometheus"] == [f"127.0.0.1:{_port('prometheus')}"]


@pytest.mark.parametrize("name", API_REPLICAS)
def test_each_replica_talks_to_the_compose_prometheus_and_redis(name: str) -> None:
    env = _service(name)["environment"]
    url = urlsplit(env["PROMETHEUS_URL"])
    assert (url.hostname, url.port) == ("127.0.0.1", _port("prometheus"))
    cache = urlsplit(env["SHARED_CACHE_URL"])
    assert (cache.scheme, cache.hostname, cache.port) == ("redis", "127.0.0.1", _port("redis"))
    assert "redis" in _service(name)["depends_on"]


def test_the_replicas_run_read_only_with_tmp_writable() -> None:
    for name in API_REPLICAS:
        service = _service(name)
        assert service["read_only"] is True
        assert service["tmpfs"] == ["/tmp"]


def test_traffic_runs_the_demo_source_with_arguments_it_accepts() -> None:
    command = _service("traffic")["command"]
    assert command[:3] == ["python", "-m", "demo.traffic"]
    from demo.traffic import parse_args

    args = parse_args(command[3:])
    assert (args.host, args.port) == ("127.0.0.1", _port("traffic"))
    healthcheck = " ".join(_service("traffic")["healthcheck"]["test"])
    assert f"127.0.0.1:{_port('traffic')}/metrics" in healthcheck


def test_grafana_finds_provisioning_dashboards_and_home_inside_the_container() -> None:
    assert _host_path("grafana", PurePosixPath("/etc/grafana/provisioning")) == kit.PROVISIONING
    [provider] = kit.load_yaml(kit.PROVISIONING / "dashboards" / "model-latency-api.yml")[
        "providers"
    ]
    dashboards = _host_path("grafana", PurePosixPath(provider["options"]["path"]))
    assert dashboards == kit.DASHBOARDS_DIR
    home = _service("grafana")["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    home_host = _host_path("grafana", PurePosixPath(home))
    assert home_host is not None
    assert home_host.is_file()


def test_grafanas_datasource_name_resolves_to_the_host_prometheus() -> None:
    datasource = urlsplit(
        kit.load_yaml(kit.PROVISIONING / "datasources" / "prometheus.yml")["datasources"][0]["url"]
    )
    hosts = dict(entry.split(":", 1) for entry in _service("grafana")["extra_hosts"])
    assert hosts[datasource.hostname] == "127.0.0.1"
    assert datasource.port == _port("prometheus")


def test_grafana_credentials_are_the_documented_ones() -> None:
    env = _service("grafana")["environment"]
    assert (env["GF_SECURITY_ADMIN_USER"], env["GF_SECURITY_ADMIN_PASSWORD"]) == ("admin", "admin")
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "true"
    assert env["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"


def test_the_offline_override_builds_prometheus_and_redis_on_the_local_base() -> None:
    services = kit.load_yaml(OFFLINE)["services"]
    for name in (*API_REPLICAS, "traffic"):
        assert "BASE_IMAGE" in services[name]["build"]["args"], name
    for name in ("prometheus", "redis"):
        build = services[name]["build"]
        dockerfile = kit.DEPLOY / build["context"] / build["dockerfile"]
        assert dockerfile.is_file(), dockerfile
        assert "ARG BASE_IMAGE" in dockerfile.read_text()
        assert build["network"] == "host"
    assert "grafana" not in services  # no Debian package: cannot be built here


def test_the_documented_command_is_the_one_the_compose_file_names() -> None:
    assert COMPOSE_COMMAND in kit.COMPOSE.read_text()
    assert COMPOSE_COMMAND in kit.DOCS.read_text()


# --- Dockerfile ---


def test_the_base_image_is_a_build_argument_defaulting_to_slim_python() -> None:
    [base] = _instruction("FROM")
    assert base == "${BASE_IMAGE}"
    args = dict(a.split("=", 1) for a in _instruction("ARG") if "=" in a)
    assert re.fullmatch(r"python:3\.1[1-9]-slim(-\w+)?", args["BASE_IMAGE"])
    steps = kit.dockerfile_instructions()
    assert steps[0] == ("ARG", f"BASE_IMAGE={args['BASE_IMAGE']}")  # before FROM


def test_runs_as_a_non_root_user_created_in_the_image() -> None:
    users = _instruction("USER")
    assert users
    assert users[-1] not in ("root", "0")
    useradd = [run for run in _instruction("RUN") if "useradd" in run]
    assert any(f"--uid {users[-1]} " in run or run.split()[-1] == users[-1] for run in useradd)


def test_dependencies_are_installed_from_the_lock_before_the_code_is_copied() -> None:
    steps = kit.dockerfile_instructions()
    install = next(i for i, (head, args) in enumerate(steps) if "pip install" in args)
    copies = [(i, args.split()[0]) for i, (head, args) in enumerate(steps) if head == "COPY"]
    code = [i for i, source in copies if source.rstrip("/") in ("app", "demo", ".")]
    assert code
    assert min(code) > install
    assert [source for i, source in copies if i < install] == ["requirements.lock"]
    command = steps[install][1]
    assert "--require-hashes" in command
    assert "-r requirements.lock" in command


def test_the_image_contains_app_demo_and_serve_sh_and_dockerignore_lets_them_in() -> None:
    sources = [args.split()[0] for args in _instruction("COPY")]
    assert {"app/", "demo/", "requirements.lock", "scripts/serve.sh"} <= set(sources)
    patterns = [
        line.strip()
        for line in kit.DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for source in sources:
        assert (kit.ROOT / source).exists(), source
        assert _dockerignore_keeps(patterns, source.rstrip("/")), source
    assert not _dockerignore_keeps(patterns, ".venv")
    assert not _dockerignore_keeps(patterns, ".git")


def _dockerignore_keeps(patterns: list[str], path: str) -> bool:
    """Docker's rule: the last pattern that matches decides; `!` re-includes."""
    kept = True
    for pattern in patterns:
        negated = pattern.startswith("!")
        body = pattern.lstrip("!").rstrip("/")
        if fnmatch.fnmatch(path, body):
            kept = negated
    return kept


def _env() -> dict[str, str]:
    env: dict[str, str] = {}
    for args in _instruction("ENV"):
        env |= dict(re.findall(r"(\w+)=(\S+)", args))
    return env


def test_the_command_is_serve_sh_which_execs_uvicorn_on_host_and_port() -> None:
    [cmd] = _instruction("CMD")
    argv = _exec_form(cmd)  # exec form: no shell between docker stop and the server
    assert argv[0] == "./scripts/serve.sh"
    serve = (kit.ROOT / "scripts" / "serve.sh").read_text()
    assert re.search(r'^exec "\$uvicorn" app\.main:app ', serve, re.MULTILINE)
    assert '--host "$HOST" --port "$PORT"' in serve
    env = _env()
    assert (env["HOST"], env["PORT"]) == ("0.0.0.0", "8000")
    assert env["PORT"] in _instruction("EXPOSE")


def _probe(check: str) -> str:
    argv = _exec_form(check.split(" CMD ", 1)[1])
    assert argv[:2] == ["python", "-c"]
    return argv[2]


class _Live(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/health/live" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_the_healthcheck_probes_health_live_on_the_port_in_port() -> None:
    [check] = _instruction("HEALTHCHECK")
    assert re.search(r"--interval=\d+s", check)
    code = _probe(check)
    server = http.server.HTTPServer(("127.0.0.1", 0), _Live)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for port, status in ((server.server_port, 0), (free_port(), 1)):
            result = subprocess.run(
                [sys.executable, "-c", code], env={"PORT": str(port)}, timeout=30, check=False
            )
            assert (result.returncode != 0) == bool(status), port
    finally:
        server.shutdown()
        server.server_close()
    assert "/health/live" in code


async def test_liveness_does_not_depend_on_prometheus(make_client) -> None:
    # Prometheus unreachable (a closed port): the container must still count as healthy.
    settings = Settings(prometheus_url=f"http://127.0.0.1:{free_port()}")
    async with make_client(settings) as client:
        response = await client.get("/health/live")
    assert response.status_code == 200
