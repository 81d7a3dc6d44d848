"""The settings behind the status page, read through its JSON endpoint (no browser)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.settings import Settings


async def test_defaults_are_the_seed_thresholds(make_client):
    async with make_client(Settings()) as client:
        response = await client.get("/api/status/config")
    assert response.status_code == 200
    assert response.json() == {
        "status": "success",
        "warning_ms": 100.0,
        "danger_ms": 200.0,
        "refresh_seconds": 15.0,
    }


async def test_thresholds_come_from_the_environment(make_client, monkeypatch):
    monkeypatch.setenv("STATUS_WARNING_MS", "250")
    monkeypatch.setenv("STATUS_DANGER_MS", "800")
    monkeypatch.setenv("STATUS_REFRESH_SECONDS", "30")
    async with make_client(Settings()) as client:
        body = (await client.get("/api/status/config/")).json()
    assert (body["warning_ms"], body["danger_ms"], body["refresh_seconds"]) == (250, 800, 30)


@pytest.mark.parametrize(
    "values",
    [
        {"status_warning_ms": 200, "status_danger_ms": 200},
        {"status_warning_ms": 300, "status_danger_ms": 200},
        {"status_warning_ms": 0},
        {"status_refresh_seconds": 1},
    ],
)
def test_bad_thresholds_are_refused(values):
    with pytest.raises(ValidationError):
        Settings(**values)


async def test_the_page_and_its_assets_are_served(make_client):
    async with make_client(Settings()) as client:
        page = await client.get("/")
        script = await client.get("/static/status.js")
        missing = await client.get("/static/nope.js")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'src="static/status.js"' in page.text
    assert script.status_code == 200
    assert missing.status_code == 404
