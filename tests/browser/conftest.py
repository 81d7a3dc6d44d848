"""Debian's Chromium, driven by Playwright, against the service running as a real uvicorn.

Every page runs in a context that fails the test on any request to a host other than
127.0.0.1 or localhost (and aborts it), and on any uncaught JavaScript error.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, Route, async_playwright

from harness.processes import Service, free_port, uvicorn_app
from harness.prometheus import PROMETHEUS, PrometheusServer
from tests.conftest import backfilled_prometheus, require_binary
from tests.support.dataset import DATASET
from tests.support.status_dataset import two_profiles as two_profiles_text

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


@contextmanager
def running_service(prometheus_url: str, log_dir: Path, **env: str) -> Iterator[Service]:
    """``uvicorn app.main:app`` on a free loopback port, configured through the environment."""
    log = log_dir / f"service-{free_port()}.log"
    with uvicorn_app(log, {"PROMETHEUS_URL": prometheus_url, **env}) as service:
        yield service


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


@pytest.fixture(scope="session")
def two_profiles(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    """A real Prometheus holding vLLM and LiteLLM series, now and a day before."""
    yield from backfilled_prometheus(tmp_path_factory, "two-profiles", two_profiles_text())


@pytest.fixture(scope="session")
def models_service(two_profiles, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The service over the two-profile Prometheus, with thresholds that suit its data."""
    env = {"STATUS_WARNING_MS": "1000", "STATUS_DANGER_MS": "2000", "CACHE_TTL_SECONDS": "60"}
    with running_service(two_profiles.url, tmp_path_factory.mktemp("models"), **env) as running:
        yield running


__all__ = ["ARTIFACTS", "DANGER_MS", "WARNING_MS", "GuardedPage", "Service", "running_service"]
