"""GET /api/models/stream/ under real uvicorn: each event is the /api/models/ answer, and
subscribers with the same parameters share one evaluation per interval."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from harness.processes import uvicorn_app
from tests.integration.test_stream import read_events
from tests.support.profile_dataset import END

pytestmark = pytest.mark.prometheus

PARAMS = {"profile": "vllm", "time": str(END), "interval": "1"}


async def test_every_subscriber_gets_the_models_answer_as_events(
    profiles_prometheus, tmp_path: Path
):
    env = {"PROMETHEUS_URL": profiles_prometheus.url, "CACHE_TTL_SECONDS": "1"}
    with uvicorn_app(tmp_path / "service.log", env) as service:
        async with httpx.AsyncClient(base_url=service.url, timeout=20) as client:

            async def two_events() -> list[dict[str, str]]:
                async with client.stream("GET", "/api/models/stream/", params=PARAMS) as r:
                    assert r.status_code == 200
                    assert r.headers["content-type"].startswith("text/event-stream")
                    return await read_events(r, 2)

            streams = await asyncio.gather(*(two_events() for _ in range(3)))
            polled = await client.get(
                "/api/models/", params={k: v for k, v in PARAMS.items() if k != "interval"}
            )
            bad = await client.get("/api/models/stream/", params={"interval": "0"})
    expected = polled.json()
    for events in streams:
        assert [e["event"] for e in events] == ["models", "models"]
        for event in events:
            assert json.loads(event["data"])["data"] == expected["data"]
            assert event["id"] == f"{END:.3f}"  # the evaluation time
    assert bad.status_code == 400
    assert bad.json()["details"]["errors"][0]["parameter"] == "interval"
