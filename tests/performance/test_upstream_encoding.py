"""Upstream answers are not compressed unless asked for: gzip costs more than it saves locally."""

from __future__ import annotations

import httpx
import pytest

from app.settings import Settings

URL = "http://prometheus.invalid:9090"


@pytest.mark.parametrize(("compression", "expected"), [(False, "identity"), (True, "gzip")])
async def test_accept_encoding(make_client, compression, expected):
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200, json={"status": "success", "data": {"resultType": "vector", "result": []}}
        )

    settings = Settings(prometheus_url=URL, upstream_compression=compression)
    async with make_client(settings, httpx.MockTransport(answer)) as client:
        response = await client.get("/api/metrics/p95/")
    assert response.status_code == 200
    assert {r.headers["accept-encoding"] for r in seen} == {expected}
