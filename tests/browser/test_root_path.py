"""Behind a proxy that strips ``/latency``: every route, the docs and the status page work.

The service runs under real uvicorn with ``--root-path /latency``; a small proxy on
loopback forwards ``/latency/...`` as ``/...``, as the usual ingress set-up does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness.processes import Service, uvicorn_app
from tests.browser.conftest import DANGER_MS, WARNING_MS, open_page
from tests.support.dataset import END

pytestmark = [pytest.mark.browser, pytest.mark.prometheus]

PREFIX = "/latency"
API = [
    ("/api/metrics/", {"time": END}),
    ("/api/metrics/p95/", {"time": END}),
    ("/api/metrics/p95", {"time": END}),
    ("/api/metrics/percentiles/", {"time": END, "percentiles": "50,99"}),
    ("/api/metrics/p95/range/", {"start": END - 3600, "end": END, "step": "5m"}),
    ("/api/metrics/history/", {"hours": 1}),
    ("/api/status/config/", {}),
]
HEALTH = ["/health/live", "/health/ready", "/health", "/api/health/"]


@pytest.fixture(scope="module", params=["--root-path", "ROOT_PATH"])
def behind_proxy(
    request: pytest.FixtureRequest, prometheus, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    """The prefix given to uvicorn (``--root-path``) or to the service (``ROOT_PATH``)."""
    logs: Path = tmp_path_factory.mktemp("root-path")
    env = {
        "PROMETHEUS_URL": prometheus.url,
        "STATUS_WARNING_MS": str(WARNING_MS),
        "STATUS_DANGER_MS": str(DANGER_MS),
    }
    args: tuple[str, ...] = ("--no-access-log", "--log-level", "warning")
    if request.param == "ROOT_PATH":
        env["ROOT_PATH"] = PREFIX
    else:
        args += ("--root-path", PREFIX)
    with uvicorn_app(logs / "service.log", env, uvicorn_args=args) as service:
        proxy_env = {"PROXY_TARGET": service.url, "PROXY_PREFIX": PREFIX}
        with uvicorn_app(
            logs / "proxy.log",
            proxy_env,
            app="tests.support.prefix_proxy:app",
            ready_path=PREFIX + "/health/live",
        ) as proxy:
            yield proxy


async def test_every_api_route_answers_under_the_prefix(behind_proxy):
    async with httpx.AsyncClient(base_url=behind_proxy.url + PREFIX) as client:
        for path, params in API:
            response = await client.get(path, params=params)
            assert response.status_code == 200, (path, response.text)
        p95 = (await client.get("/api/metrics/p95/", params={"time": END})).json()
        for path in HEALTH:
            response = await client.get(path)
            assert response.status_code == 200, (path, response.text)
    assert p95["count"] > 0
    assert any(item["p95_latency_ms"] is not None for item in p95["data"])


async def test_docs_fetch_their_schema_under_the_prefix(behind_proxy):
    async with httpx.AsyncClient(base_url=behind_proxy.url) as client:
        docs = await client.get(PREFIX + "/docs")
        schema = await client.get(PREFIX + "/openapi.json")
    assert f'"{PREFIX}/openapi.json"' in docs.text or f"'{PREFIX}/openapi.json'" in docs.text
    assert schema.status_code == 200
    assert "/api/metrics/p95/" in schema.json()["paths"]


async def test_the_status_page_fills_its_table_under_the_prefix(behind_proxy, browser):
    async for guarded in open_page(browser, viewport={"width": 1280, "height": 900}):
        page = guarded.page
        fetched: list[str] = []
        page.on("request", lambda request, seen=fetched: seen.append(request.url))
        await page.goto(behind_proxy.url + PREFIX + "/")
        await page.wait_for_selector("#models tbody tr", timeout=15_000)
        rows = await page.locator("#models tbody tr").count()
        assert rows > 0
        api_calls = [url for url in fetched if "/api/" in url]
        assert api_calls
        assert all(url.startswith(behind_proxy.url + PREFIX + "/") for url in api_calls)


async def test_a_model_page_reads_everything_under_the_prefix(behind_proxy, browser):
    async for guarded in open_page(browser, viewport={"width": 1280, "height": 900}):
        page = guarded.page
        fetched: list[str] = []
        page.on("request", lambda request, seen=fetched: seen.append(request.url))
        await page.goto(behind_proxy.url + PREFIX + "/")
        await page.wait_for_selector("#models tbody tr a", timeout=15_000)
        await page.click("#models tbody tr a")
        await page.wait_for_selector("#charts figure svg", state="attached", timeout=15_000)
        assert page.url.startswith(behind_proxy.url + PREFIX + "/models/?model=")
        local = [url for url in fetched if url.startswith(behind_proxy.url)]
        assert any("/api/models/range/" in url for url in local)
        assert all(url.startswith(behind_proxy.url + PREFIX + "/") for url in local)
