"""The settings behind the status page, read through its JSON endpoint (no browser)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.settings import Settings


async def test_defaults_are_the_seed_thresholds(make_client):
    async with make_client(Settings()) as client:
        response = await client.get("/api/status/config")
    assert response.status_code == 200
    body = response.json()
    histograms = body.pop("latency_histograms")
    assert body == {
        "status": "success",
        "warning_ms": 100.0,
        "danger_ms": 200.0,
        "refresh_seconds": 15.0,
        "slo_threshold_ms": 1000.0,
        "slo_objective": 99.0,
    }
    # Each built-in profile's latency histogram, by the name its exporter uses.
    assert histograms["vllm"] == {
        "metric_name": "vllm:e2e_request_latency_seconds",
        "model_label": "model_name",
    }
    assert histograms["litellm"] == {
        "metric_name": "litellm_request_total_latency_metric",
        "model_label": "requested_model",
    }
    assert histograms["default"] == {
        "metric_name": "request_duration_seconds",
        "model_label": "model",
    }


async def test_thresholds_come_from_the_environment(make_client, monkeypatch):
    monkeypatch.setenv("STATUS_WARNING_MS", "250")
    monkeypatch.setenv("STATUS_DANGER_MS", "800")
    monkeypatch.setenv("STATUS_REFRESH_SECONDS", "30")
    monkeypatch.setenv("STATUS_SLO_THRESHOLD_MS", "750")
    monkeypatch.setenv("STATUS_SLO_OBJECTIVE", "99.5")
    async with make_client(Settings()) as client:
        body = (await client.get("/api/status/config/")).json()
    assert (body["warning_ms"], body["danger_ms"], body["refresh_seconds"]) == (250, 800, 30)
    assert (body["slo_threshold_ms"], body["slo_objective"]) == (750, 99.5)


@pytest.mark.parametrize(
    "values",
    [
        {"status_warning_ms": 200, "status_danger_ms": 200},
        {"status_warning_ms": 300, "status_danger_ms": 200},
        {"status_warning_ms": 0},
        {"status_refresh_seconds": 1},
        {"status_slo_threshold_ms": 0},
        {"status_slo_objective": 0},
        {"status_slo_objective": 100.1},
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


async def test_the_model_page_is_the_same_page_resolved_against_the_root(make_client):
    async with make_client(Settings()) as client:
        root = await client.get("/")
        model = await client.get("/models/", params={"model": "org/model:v1"})
        module = await client.get("/static/js/overview.js")
    assert model.status_code == 200
    assert model.headers["content-type"].startswith("text/html")
    assert model.headers["content-security-policy"] == root.headers["content-security-policy"]
    assert '<base href="../">' in model.text
    assert model.text.replace('\n  <base href="../">', "", 1) == root.text
    assert module.status_code == 200
    assert "javascript" in module.headers["content-type"]
