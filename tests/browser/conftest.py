"""Debian's Chromium, driven by Playwright, against the service running as a real uvicorn.

Every page runs in a context that fails the test on any request to a host other than
127.0.0.1 or localhost (and aborts it), and on any uncaught JavaScript error.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, Route, async_playwright

from tests.conftest import require_binary
from tests.support.dataset import DATASET
from tests.support.prometheus import PROMETHEUS, PrometheusServer, free_port

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
# What the pages' Content-Security-Policy may block: ReDoc's sidebar logo, on an outside
# host, which ReDoc hides when it does not load. Anything else blocked is a broken page.
EXPECTED_CSP_BLOCKS = ("https://cdn.redoc.ly/redoc/logo-mini.svg",)
# Thresholds that put the standard dataset's models in all three states (see test_status_page).
WARNING_MS, DANGER_MS = 930.0, 2000.0


@dataclass
class Service:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@contextmanager
def running_service(prometheus_url: str, log_dir: Path, **env: str) -> Iterator[Service]:
    """``uvicorn app.main:app`` on a free loopback port, configured through the environment."""
    port = free_port()
    log = log_dir / f"service-{port}.log"
    settings = {"PROMETHEUS_URL": prometheus_url, **env}
    argv = [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*argv, "--port", str(port)],
            cwd=ROOT,
            env={**os.environ, **settings},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    service = Service(f"http://127.0.0.1:{port}", process, log)
    try:
        wait_ready(service)
        yield service
    finally:
        service.stop()


def wait_ready(service: Service, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise RuntimeError(f"service exited: {service.log.read_text()[-2000:]}")
        try:
            if httpx.get(service.url + "/api/status/config/", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"service not ready in {timeout}s: {service.log.read_text()[-2000:]}")


@pytest.fixture(scope="session")
def service(prometheus, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The service against the shared Prometheus, with thresholds that suit its dataset."""
    env = {"STATUS_WARNING_MS": str(WARNING_MS), "STATUS_DANGER_MS": str(DANGER_MS)}
    with running_service(prometheus.url, tmp_path_factory.mktemp("service"), **env) as running:
        yield running


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    require_binary(CHROMIUM)
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        await chromium.close()


@dataclass
class Guard:
    """What a page tried that it must not: leave the machine, or throw."""

    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    def console(self, message: ConsoleMessage) -> None:
        text = message.text
        if "Content Security Policy" in text and not any(u in text for u in EXPECTED_CSP_BLOCKS):
            self.blocked.append(text)

    async def route(self, route: Route) -> None:
        url = route.request.url
        self.requests.append(url)
        if urlsplit(url).hostname in LOCAL_HOSTS:
            await route.continue_()
        else:
            self.outside.append(url)
            await route.abort("blockedbyclient")


@dataclass
class GuardedPage:
    page: Page
    guard: Guard


async def open_page(browser: Browser, **context_options: object) -> AsyncIterator[GuardedPage]:
    guard = Guard()
    context = await browser.new_context(**context_options)  # type: ignore[arg-type]
    await context.route("**/*", guard.route)
    page = await context.new_page()
    page.on("pageerror", lambda exc: guard.errors.append(str(exc)))
    page.on("console", guard.console)
    try:
        yield GuardedPage(page, guard)
    finally:
        await context.close()
    assert guard.outside == [], f"requests left the machine: {guard.outside}"
    assert guard.errors == [], f"JavaScript errors: {guard.errors}"
    assert guard.blocked == [], f"blocked by the page's Content-Security-Policy: {guard.blocked}"


@pytest.fixture
async def desktop(browser: Browser) -> AsyncIterator[GuardedPage]:
    async for guarded in open_page(browser, viewport={"width": 1280, "height": 900}):
        yield guarded


@pytest.fixture
async def phone(browser: Browser) -> AsyncIterator[GuardedPage]:
    options = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
    async for guarded in open_page(browser, **options):
        yield guarded


@pytest.fixture
def second_prometheus(tmp_path: Path) -> Iterator[PrometheusServer]:
    """A Prometheus of this test's own, which the test may stop (the shared one stays up)."""
    require_binary(PROMETHEUS)
    with PrometheusServer.backfilled(tmp_path, DATASET.openmetrics()) as server:
        yield server


__all__ = ["ARTIFACTS", "DANGER_MS", "WARNING_MS", "GuardedPage", "Service", "running_service"]
