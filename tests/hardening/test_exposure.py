"""What the service shows to whoever can reach it: pages with their CSP, assets only under
/static, and host readings (`/health/metrics`) only when an operator switches them on."""

from __future__ import annotations

import httpx
import pytest

from app.routers.pages import DOCS_CSP
from app.settings import Settings
from tests.support.fake_prometheus import FakePrometheus

SETTINGS = Settings(prometheus_url="http://prometheus.test")
UPSTREAM = httpx.MockTransport(FakePrometheus().answer)

ASSETS = (
    "/static/status.js",
    "/static/status.css",
    "/static/favicon.svg",
    "/static/vendor/swagger-ui/swagger-ui-bundle.js",
    "/static/vendor/swagger-ui/favicon-32x32.png",
    "/static/vendor/redoc/redoc.standalone.js",
    "/static/vendor/fonts/fonts.css",
)
NOT_ASSETS = (
    "/static/vendor/README.md",
    "/static/vendor/README.md/.",
    "/static/vendor/./README.md",
    "/static/vendor/swagger-ui/../README.md",
    "/static/vendor/%52EADME.md",
    "/static/vendor/README.md%00.js",
    "/static/status.html",
    "/static/vendor/redoc/LICENSE",
    "/static/vendor/redoc/redoc.standalone.js.LICENSE.txt",
    "/static/vendor/swagger-ui/NOTICE",
    "/static/vendor/fonts/LICENSE-roboto",
    "/static/vendor",
    "/static/vendor/",
    "/static/",
    "/static/../settings.py",
    "/static/%2e%2e/settings.py",
)


@pytest.mark.parametrize("path", ["/docs", "/docs/oauth2-redirect", "/redoc"])
async def test_every_docs_page_carries_the_docs_csp(make_client, path: str) -> None:
    async with make_client(SETTINGS, UPSTREAM) as client:
        response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == DOCS_CSP


async def test_static_serves_every_asset_the_pages_load(make_client) -> None:
    async with make_client(SETTINGS, UPSTREAM) as client:
        statuses = {path: (await client.get(path)).status_code for path in ASSETS}
    assert set(statuses.values()) == {200}, statuses


@pytest.mark.parametrize("path", NOT_ASSETS)
async def test_static_serves_nothing_but_assets(make_client, path: str) -> None:
    async with make_client(SETTINGS, UPSTREAM) as client:
        response = await client.get(path)
        head = await client.head(path)
    assert response.status_code == 404, response.text[:200]
    assert response.json()["status"] == "error"
    assert head.status_code == 404


async def test_host_readings_are_off_by_default(make_client) -> None:
    async with make_client(SETTINGS, UPSTREAM) as client:
        response = await client.get("/health/metrics")
        slashed = await client.get("/health/metrics/")
        unknown = await client.get("/health/nothing")
    assert (response.status_code, slashed.status_code) == (404, 404)
    assert response.json() == {**unknown.json(), "details": {"path": "/health/metrics"}}
    assert "memory" not in response.text


async def test_host_readings_answer_when_switched_on(make_client) -> None:
    settings = Settings(prometheus_url="http://prometheus.test", health_metrics_enabled=True)
    async with make_client(settings, UPSTREAM) as client:
        response = await client.get("/health/metrics")
    assert response.status_code == 200
    assert response.json()["system"]["memory_total_bytes"] > 0


def test_the_switch_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEALTH_METRICS_ENABLED", "true")
    assert Settings().health_metrics_enabled is True
    monkeypatch.delenv("HEALTH_METRICS_ENABLED")
    assert Settings().health_metrics_enabled is False
