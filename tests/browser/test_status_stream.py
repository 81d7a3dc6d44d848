"""The status page subscribes to the live stream, and polls when it cannot."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from harness.processes import Service, uvicorn_app
from tests.browser.conftest import open_page

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The service over a Prometheus stand-in whose numbers change every second."""
    logs = tmp_path_factory.mktemp("stream-page")
    with uvicorn_app(
        logs / "upstream.log",
        {},
        app="tests.support.changing_prometheus:app",
        ready_path="/-/ready",
    ) as upstream:
        env = {"PROMETHEUS_URL": upstream.url, "CACHE_TTL_SECONDS": "1"}
        with uvicorn_app(logs / "service.log", env) as service:
            yield service


async def table_text(page) -> str:
    return await page.locator("#models tbody").inner_text()


async def until(page, expression: str, arg: object = None, seconds: float = 15.0) -> None:
    """Poll ``expression`` in the page (its CSP forbids the eval behind wait_for_function)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not await page.evaluate(expression, arg):
        assert asyncio.get_running_loop().time() < deadline, f"never true: {expression}"
        await asyncio.sleep(0.2)


async def test_numbers_change_without_a_reload(browser, live):
    async for guarded in open_page(browser, viewport={"width": 1280, "height": 900}):
        page = guarded.page
        streamed: list[str] = []
        page.on("request", lambda r, seen=streamed: seen.append(r.url))
        await page.goto(live.url + "/?refresh=2")
        await page.wait_for_selector("#models tbody tr")
        await until(page, "() => document.body.dataset.mode === 'stream'")
        await page.evaluate("window.__notReloaded = true")
        first = await table_text(page)
        await until(
            page, "(before) => document.querySelector('#models tbody').innerText !== before", first
        )
        assert await page.evaluate("window.__notReloaded") is True
        assert any("/api/models/stream/" in url for url in streamed)
        # The table is fed by the stream, not by polling the scorecard.
        polls = [u for u in streamed if "/api/models/?" in u or u.endswith("/api/models/")]
        assert polls == []


async def test_without_the_stream_the_page_polls(browser, live):
    async for guarded in open_page(browser, viewport={"width": 1280, "height": 900}):
        page = guarded.page
        await page.route("**/api/models/stream/**", lambda route: route.abort())
        await page.goto(live.url + "/?refresh=2")
        await page.wait_for_selector("#models tbody tr")
        await until(page, "() => document.body.dataset.mode === 'polling'")
        before = int(await page.evaluate("document.body.dataset.refreshes"))
        await until(page, "(n) => Number(document.body.dataset.refreshes) > n + 1", before)
        assert await page.locator("#models tbody tr").count() == 2


async def test_a_model_page_follows_the_stream_too(browser, live):
    async for guarded in open_page(browser, viewport={"width": 1280, "height": 900}):
        page = guarded.page
        streamed: list[str] = []
        page.on("request", lambda r, seen=streamed: seen.append(r.url))
        await page.goto(live.url + "/models/?model=llama-3&refresh=2")
        await page.wait_for_selector("#scorecard .card .value")
        await until(page, "() => document.body.dataset.mode === 'stream'")
        await page.evaluate("window.__notReloaded = true")
        first = await page.locator("#scorecard").inner_text()
        await until(
            page, "(before) => document.querySelector('#scorecard').innerText !== before", first
        )
        assert await page.evaluate("window.__notReloaded") is True
        assert any("/api/models/stream/" in url and "model=llama-3" in url for url in streamed)
