"""Secrets in settings and in the engine's words, tried as an attacker would.

1. Start-up: the service is started as it is deployed (``python -m uvicorn
   app.main:app``) with bad values that hold a password; it must stop with one line naming
   the variable and the problem, and print the password nowhere (it used to echo
   ``PROMETHEUS_ALLOWED_URLS=ftp://admin:S3cr3tPW@host:9090`` whole).
2. Conflicting credentials (a bearer token and a URL with user:password, where basic auth
   silently won) and whitespace in a token (a trailing newline from a secret file, after
   which every query failed) are refused at start-up.
3. An engine whose error text or warnings repeat the request's headers: the token and the
   tenant header reach neither the answer (``details.reason``, ``warnings``), nor
   ``/health``, nor the log.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from harness.processes import ROOT, Service, free_port, uvicorn_app
from tests.support.fake_prometheus import FakeUpstream, Steady

PASSWORD = "S3cr3tPW"
TOKEN = "tok-S3cr3tPW-0123456789"
TENANT = "tenant-B-S3cr3tPW"

BAD_SETTINGS = [
    ({"PROMETHEUS_ALLOWED_URLS": f"ftp://admin:{PASSWORD}@host:9090"}, "PROMETHEUS_ALLOWED_URLS"),
    (
        {"PROMETHEUS_ALLOWED_URLS": f"http://ok:9090,ftp://admin:{PASSWORD}@host:9090"},
        "PROMETHEUS_ALLOWED_URLS",
    ),
    ({"PROMETHEUS_URL": f"http://admin:{PASSWORD}@host:9090/ x"}, "PROMETHEUS_URL"),
    ({"PROMETHEUS_HEADERS": '{"X-Scope-OrgID": ' + PASSWORD + "}"}, "PROMETHEUS_HEADERS"),
    ({"PROMETHEUS_HEADERS": json.dumps({"X-Scope-OrgID": PASSWORD + "\n"})}, "PROMETHEUS_HEADERS"),
    ({"PROMETHEUS_BEARER_TOKEN": PASSWORD + "\n"}, "PROMETHEUS_BEARER_TOKEN"),
    ({"PROMETHEUS_BEARER_TOKEN": f"Bearer {PASSWORD}"}, "PROMETHEUS_BEARER_TOKEN"),
    (
        {"PROMETHEUS_USERNAME": "admin", "PROMETHEUS_PASSWORD": f" {PASSWORD}\r\n"},
        "PROMETHEUS_PASSWORD",
    ),
    (
        {
            "PROMETHEUS_BEARER_TOKEN": PASSWORD,
            "PROMETHEUS_URL": f"http://admin:{PASSWORD}x@127.0.0.1:9",
        },
        "PROMETHEUS_BEARER_TOKEN is set and a Prometheus URL carries user:password",
    ),
    (
        {
            "PROMETHEUS_USERNAME": "admin",
            "PROMETHEUS_PASSWORD": PASSWORD,
            "PROMETHEUS_ALLOWED_URLS": f"http://other:{PASSWORD}x@127.0.0.1:9",
        },
        "PROMETHEUS_USERNAME is set and a Prometheus URL carries user:password",
    ),
    ({"ALLOWED_METRICS": f"({PASSWORD}"}, "ALLOWED_METRICS"),
    ({"CACHE_TTL_SECONDS": PASSWORD}, "CACHE_TTL_SECONDS"),
]
SERVICE_VARIABLES = ("PROMETHEUS_", "ALLOWED_", "CACHE_", "LABEL_SELECTOR")


def start_uvicorn(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(SERVICE_VARIABLES)}
    command = [sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(free_port())]
    return subprocess.run(
        [*command, "--host", "127.0.0.1", "--log-level", "trace"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(("env", "named"), BAD_SETTINGS)
def test_a_rejected_setting_is_named_and_its_value_never_printed(env, named):
    done = start_uvicorn(env)
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "Invalid configuration, the service did not start" in output
    assert named in output
    assert "Traceback" not in output
    assert PASSWORD not in output, output


def test_a_clean_token_and_a_url_without_credentials_start():
    env = {"PROMETHEUS_BEARER_TOKEN": TOKEN, "PROMETHEUS_URL": "http://127.0.0.1:9"}
    done = subprocess.run(
        [sys.executable, "-c", "import app.main"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream(data=Steady(), html_status=500) as running:
        yield running


@pytest.fixture(scope="module")
def service(upstream: FakeUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    env = {
        "PROMETHEUS_URL": f"http://127.0.0.1:{upstream.port}",
        "PROMETHEUS_BEARER_TOKEN": TOKEN,
        "PROMETHEUS_HEADERS": json.dumps({"X-Scope-OrgID": TENANT}),
        "CACHE_TTL_SECONDS": "0",
        "CACHE_STALE_SECONDS": "0",
        "HEALTH_CACHE_SECONDS": "0",
        "CIRCUIT_FAILURE_THRESHOLD": "1000",
    }
    log = tmp_path_factory.mktemp("engine-text") / "service.log"
    with uvicorn_app(log, env, uvicorn_args=("--log-level", "trace", "--access-log")) as running:
        yield running


def shows_a_secret(text: str) -> bool:
    return PASSWORD in text or TENANT in text


async def test_the_engines_error_text_reaches_no_one_with_the_secrets(
    service: Service, upstream: FakeUpstream
) -> None:
    upstream.mode = "echo"
    try:
        async with httpx.AsyncClient(base_url=service.url, trust_env=False, timeout=10) as client:
            answer = await client.get("/api/metrics/p95/")
            health = await client.get("/health")
            ready = await client.get("/api/health/")
    finally:
        upstream.mode = "ok"
    sent = upstream.requests[-1].headers
    assert sent["authorization"] == f"Bearer {TOKEN}"  # the engine did get the secrets
    assert sent["x-scope-orgid"] == TENANT
    assert answer.status_code == 502
    reason = answer.json()["details"]["reason"]
    assert "unexpected request" in reason, reason
    assert "authorization: [redacted]" in reason
    for response in (answer, health, ready):
        assert not shows_a_secret(response.text), response.text
    log = service.log.read_text(errors="replace")
    assert "upstream error" in log
    assert "unexpected request" in log
    assert not shows_a_secret(log), [line for line in log.splitlines() if shows_a_secret(line)]


async def test_the_engines_warnings_reach_no_one_with_the_secrets(
    service: Service, upstream: FakeUpstream
) -> None:
    upstream.mode = "echo_warnings"
    try:
        async with httpx.AsyncClient(base_url=service.url, trust_env=False, timeout=10) as client:
            answer = await client.get("/api/metrics/p95/")
    finally:
        upstream.mode = "ok"
    assert answer.status_code == 200, answer.text
    [warning] = answer.json()["warnings"]
    assert "unexpected request" in warning
    assert "[redacted]" in warning
    assert not shows_a_secret(answer.text), answer.text
