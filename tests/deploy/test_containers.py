"""The Dockerfile and deploy/docker-compose.yml, checked without a Docker engine.

What can be proven here: the files parse, every path they mount or copy exists (and maps
to where Prometheus and Grafana look for it inside the containers), the commands they run
are the project's own (the uvicorn target of scripts/serve.sh, the traffic source's real
argument parser, the health route the app really serves), and the image is built in the
cache-friendly, unprivileged way the issue asks for.
"""

from __future__ import annotations

import fnmatch
import json
import re
import subprocess
import sys
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pytest

from app.settings import Settings
from tests.deploy import kit
from tests.support.prometheus import free_port

COMPOSE_COMMAND = "docker compose -f deploy/docker-compose.yml up --build"


def _compose() -> dict[str, Any]:
    return kit.load_yaml(kit.COMPOSE)


def _service(name: str) -> dict[str, Any]:
    service: dict[str, Any] = _compose()["services"][name]
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


def test_compose_has_the_four_services() -> None:
    assert set(_compose()["services"]) == {"api", "traffic", "prometheus", "grafana"}


@pytest.mark.parametrize("name", ["api", "traffic"])
def test_api_and_traffic_build_the_repository_dockerfile(name: str) -> None:
    build = _service(name)["build"]
    context = (kit.COMPOSE.parent / build["context"]).resolve()
    assert context == kit.ROOT
    assert (context / build["dockerfile"]).resolve() == kit.DOCKERFILE


@pytest.mark.parametrize("name", ["prometheus", "grafana"])
def test_every_bind_mount_exists(name: str) -> None:
    mounts = _mounts(name)
    assert mounts
    for source in mounts.values():
        assert source.exists(), source


@pytest.mark.parametrize("name", ["prometheus", "grafana"])
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


def test_prometheus_scrapes_the_compose_services_on_their_ports() -> None:
    services = _compose()["services"]
    config = kit.load_yaml(kit.PROMETHEUS_CONFIG)
    targets = {
        job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]
    }
    assert targets[kit.SERVICE_JOB] == ["api:8000"]
    assert "8000:8000" in services["api"]["ports"]
    assert targets[kit.GATEWAY_JOB] == [f"traffic:{_traffic_port()}"]


def _traffic_port() -> int:
    command = _service("traffic")["command"]
    return int(command[command.index("--port") + 1])


def test_the_api_talks_to_the_compose_prometheus() -> None:
    url = urlsplit(_service("api")["environment"]["PROMETHEUS_URL"])
    assert url.hostname == "prometheus"
    assert url.port == 9090  # Prometheus's default listen port; the command keeps it
    assert not any(c.startswith("--web.listen-address") for c in _service("prometheus")["command"])


def test_traffic_runs_the_demo_source_with_arguments_it_accepts() -> None:
    command = _service("traffic")["command"]
    assert command[:3] == ["python", "-m", "demo.traffic"]
    from demo.traffic import parse_args

    args = parse_args(command[3:])
    assert (args.host, args.port) == ("0.0.0.0", _traffic_port())
    healthcheck = " ".join(_service("traffic")["healthcheck"]["test"])
    assert f"127.0.0.1:{_traffic_port()}/metrics" in healthcheck


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
    datasource_url = urlsplit(
        kit.load_yaml(kit.PROVISIONING / "datasources" / "prometheus.yml")["datasources"][0]["url"]
    )
    assert datasource_url.hostname in _compose()["services"]


def test_grafana_credentials_are_the_documented_ones() -> None:
    env = _service("grafana")["environment"]
    assert (env["GF_SECURITY_ADMIN_USER"], env["GF_SECURITY_ADMIN_PASSWORD"]) == ("admin", "admin")
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "true"
    assert env["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"


def test_the_documented_command_is_the_one_the_compose_file_names() -> None:
    assert COMPOSE_COMMAND in kit.COMPOSE.read_text()
    assert COMPOSE_COMMAND in kit.DOCS.read_text()


# --- Dockerfile ---


def test_slim_python_base() -> None:
    [base] = _instruction("FROM")
    assert re.fullmatch(r"python:3\.1[1-9]-slim(-\w+)?", base), base


def test_runs_as_a_non_root_user_created_in_the_image() -> None:
    users = _instruction("USER")
    assert users
    assert users[-1] not in ("root", "0")
    assert any("useradd" in run and run.split()[-1] == users[-1] for run in _instruction("RUN"))


def test_dependencies_are_installed_before_the_code_is_copied() -> None:
    steps = kit.dockerfile_instructions()
    install = next(i for i, (head, args) in enumerate(steps) if "pip install" in args)
    copies = [(i, args.split()[0]) for i, (head, args) in enumerate(steps) if head == "COPY"]
    code = [i for i, source in copies if source.rstrip("/") in ("app", "demo", ".")]
    assert code
    assert min(code) > install
    assert [source for i, source in copies if i < install] == ["pyproject.toml"]


def test_the_dependency_step_installs_the_projects_runtime_dependencies(tmp_path: Path) -> None:
    [install] = [run for run in _instruction("RUN") if "pip install" in run]
    python_step = install.split("&&")[0]
    script = re.search(r'python -c "(.*)" > requirements\.txt', python_step)
    assert script
    (tmp_path / "pyproject.toml").write_text((kit.ROOT / "pyproject.toml").read_text())
    result = subprocess.run(
        [sys.executable, "-c", script.group(1)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    import tomllib

    wanted = tomllib.loads((kit.ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert result.stdout.split() == [dep.replace(" ", "") for dep in wanted]
    assert "uvicorn[standard]>=0.30" in result.stdout.split()


def test_the_image_contains_app_and_demo_and_dockerignore_lets_them_in() -> None:
    sources = [args.split()[0] for args in _instruction("COPY")]
    assert {"app/", "demo/", "pyproject.toml"} <= set(sources)
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


def test_the_command_is_uvicorn_serving_the_same_app_as_the_scripts() -> None:
    [cmd] = _instruction("CMD")
    argv = _exec_form(cmd)
    serve = (kit.ROOT / "scripts" / "serve.sh").read_text()
    [script_app] = re.findall(r"uvicorn (\S+:\S+)", serve)
    assert argv[:2] == ["uvicorn", script_app]
    assert argv[argv.index("--host") + 1] == "0.0.0.0"
    assert argv[argv.index("--port") + 1] == "8000"
    assert "8000" in _instruction("EXPOSE")


async def test_the_healthcheck_asks_a_route_the_app_serves(make_client) -> None:
    [check] = _instruction("HEALTHCHECK")
    assert re.search(r"--interval=\d+s", check)
    argv = _exec_form(check.split(" CMD ", 1)[1])
    assert argv[:2] == ["python", "-c"]
    compile(argv[2], "healthcheck", "exec")  # the probe is valid Python
    url = re.search(r"http://127\.0\.0\.1:(\d+)(/[\w/]+)", check)
    assert url
    assert url.group(1) == "8000"
    assert url.group(2) == "/health/live"
    # Liveness must not depend on Prometheus: this one is unreachable (a closed port).
    settings = Settings(prometheus_url=f"http://127.0.0.1:{free_port()}")
    async with make_client(settings) as client:
        response = await client.get(url.group(2))
    assert response.status_code == 200
