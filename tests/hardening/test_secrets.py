"""Credentials in ``PROMETHEUS_URL`` reach Prometheus as basic auth and nobody else.

The service runs under real uvicorn (trace logging, access log on) with
``PROMETHEUS_URL=http://admin:S3cr3tPW@127.0.0.1:<port>``, in front of a recording
stand-in for Prometheus (tests/support/fake_prometheus/). The stand-in must see
``Authorization: Basic <admin:S3cr3tPW>``; the password (plain or base64) must appear in
no header or body the service sends, whichever endpoint is asked and whatever Prometheus
does (answers, fails with 502/503/504), and never in the service's log. With
``EXPOSE_UPSTREAM=true`` the upstream is named, as ``http://127.0.0.1:<port>``.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from harness.processes import ROOT, Service, uvicorn_app
from tests.support.fake_prometheus import FakeUpstream, Steady

USER, PASSWORD = "admin", "S3cr3tPW"
BASIC = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
FORBIDDEN = (PASSWORD, BASIC, f"{USER}:{PASSWORD}")
LOGGING = ("--log-level", "trace", "--access-log")

# Everything a client can ask for that might describe the upstream.
PAGES = (
    "/health/live",
    "/health/ready",
    "/health",
    "/api/health/",
    "/health/metrics",
    "/api/metrics/p95/",
    "/api/metrics/p95/range/?duration=1h&step=5m",
    "/api/status/config/",
    "/",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
    "/openapi.json",
    "/no/such/page",
)
HEALTH = ("/health/ready", "/health", "/api/health/")
FAILURES = [("html", 502), ("unavailable", 503), ("slow", 504)]


def service_env(upstream: FakeUpstream, **extra: str) -> dict[str, str]:
    return {
        "PROMETHEUS_URL": f"http://{USER}:{PASSWORD}@127.0.0.1:{upstream.port}",
        # Every request reaches the stand-in: no cached answer, no stale copy, no breaker.
        "CACHE_TTL_SECONDS": "0",
        "CACHE_STALE_SECONDS": "0",
        "HEALTH_CACHE_SECONDS": "0",
        "HEALTH_TIMEOUT_SECONDS": "1",
        "UPSTREAM_TIMEOUT_SECONDS": "1",
        "UPSTREAM_CONNECT_TIMEOUT_SECONDS": "1",
        "CIRCUIT_FAILURE_THRESHOLD": "1000",
        "HEALTH_METRICS_ENABLED": "true",
        **extra,
    }


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream(data=Steady(), delay=3.0, html_status=500) as running:
        yield running


@pytest.fixture(scope="module")
def service(upstream: FakeUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    log = tmp_path_factory.mktemp("secrets") / "service.log"
    with uvicorn_app(log, service_env(upstream), uvicorn_args=LOGGING) as running:
        yield running


@pytest.fixture(scope="module")
def exposed(upstream: FakeUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    log = tmp_path_factory.mktemp("secrets-exposed") / "service.log"
    env = service_env(upstream, EXPOSE_UPSTREAM="true")
    with uvicorn_app(log, env, uvicorn_args=LOGGING) as running:
        yield running


@pytest.fixture(autouse=True)
def healthy_upstream(upstream: FakeUpstream) -> Iterator[None]:
    upstream.mode = "ok"
    yield
    upstream.mode = "ok"


def leaks(response: httpx.Response) -> list[str]:
    """Where ``response`` shows the password (empty when it does not)."""
    found = []
    for name, value in response.headers.multi_items():
        if any(secret in f"{name}: {value}" for secret in FORBIDDEN):
            found.append(f"{response.request.url.path}: header {name}: {value}")
    text = response.content.decode("utf-8", "replace")
    found += [f"{response.request.url.path}: body has {s!r}" for s in FORBIDDEN if s in text]
    return found


async def fetch(service: Service, paths: tuple[str, ...]) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=service.url, timeout=10, trust_env=False) as client:
        return [await client.get(path) for path in paths]


def assert_log_clean(service: Service) -> None:
    log = service.log.read_text(errors="replace")
    assert log, "the service logged nothing: the log check would prove nothing"
    for secret in FORBIDDEN:
        assert secret not in log, [line for line in log.splitlines() if secret in line][:5]


async def test_prometheus_gets_the_url_credentials_as_basic_auth(
    service: Service, upstream: FakeUpstream
) -> None:
    seen = len(upstream.requests)
    responses = await fetch(service, ("/health/ready", "/api/metrics/p95/", "/api/health/"))
    assert [r.status_code for r in responses] == [200, 200, 200], [r.text for r in responses]
    calls = upstream.requests[seen:]
    assert {call.path.split("?")[0] for call in calls} >= {"/-/ready", "/api/v1/query"}
    for call in calls:
        assert call.headers.get("authorization") == f"Basic {BASIC}", call
        assert call.headers.get("host") == f"127.0.0.1:{upstream.port}", call


async def test_no_answer_shows_the_password(service: Service) -> None:
    responses = await fetch(service, PAGES)
    assert [r.status_code for r in responses[:6]] == [200] * 6, [r.text for r in responses]
    metrics = (await fetch(service, ("/metrics",)))[0]  # after the others: all labels exist
    found = [leak for response in [*responses, metrics] for leak in leaks(response)]
    assert not found, found


@pytest.mark.parametrize(("mode", "status"), FAILURES)
async def test_no_error_shows_the_password(
    service: Service, upstream: FakeUpstream, mode: str, status: int
) -> None:
    upstream.mode = mode
    responses = await fetch(service, ("/api/metrics/p95/", "/api/metrics/", *HEALTH))
    assert [r.status_code for r in responses] == [status, status, 503, 503, 503], [
        r.text for r in responses
    ]
    assert "upstream" not in responses[0].json()["details"]
    found = [leak for response in responses for leak in leaks(response)]
    assert not found, found


async def test_the_log_never_shows_the_password(service: Service, upstream: FakeUpstream) -> None:
    upstream.mode = "html"  # the service logs every upstream error with its details
    await fetch(service, ("/api/metrics/p95/", "/health"))
    upstream.mode = "ok"
    await fetch(service, PAGES)
    assert "upstream error" in service.log.read_text(), "no upstream error was logged"
    assert_log_clean(service)


async def test_expose_upstream_names_it_without_credentials(
    exposed: Service, upstream: FakeUpstream
) -> None:
    public = f"http://127.0.0.1:{upstream.port}"
    ready, *others = await fetch(exposed, ("/health/ready", *PAGES))
    assert ready.json()["upstream"] == public
    upstream.mode = "html"
    error, not_ready = await fetch(exposed, ("/api/metrics/p95/", "/health/ready"))
    assert error.status_code == 502
    assert error.json()["details"]["upstream"] == public
    assert not_ready.json()["upstream"] == public
    found = [leak for r in (ready, *others, error, not_ready) for leak in leaks(r)]
    assert not found, found
    assert_log_clean(exposed)


def test_a_rejected_configuration_does_not_print_the_password() -> None:
    bad = f"http://{USER}:{PASSWORD}@127.0.0.1:1/ with a space"
    env = {**os.environ, "PROMETHEUS_URL": bad}
    done = subprocess.run(
        [sys.executable, "-c", "import app.main"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "PROMETHEUS_URL" in done.stderr
    for secret in FORBIDDEN:
        assert secret not in done.stdout + done.stderr
