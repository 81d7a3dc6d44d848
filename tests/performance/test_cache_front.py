"""The hit fast path (app/http/cache_front.py) answers exactly as the full stack would.

It must count hits in the request metrics, send the same headers as the inner cache
layer, treat /api/x and /api/x/ as one resource, and leave requests a CORS layer has
to answer (those with an Origin header) to the full stack.
"""

from __future__ import annotations

import re

import pytest

from app.settings import Settings
from tests.support.dataset import END

pytestmark = pytest.mark.prometheus

P95 = "/api/metrics/p95/"


def requests_counted(metrics_text: str, handler: str) -> float:
    labels = rf'[^}}]*handler="{re.escape(handler)}"[^}}]*status="200"[^}}]*'
    pattern = rf"^http_requests_total\{{{labels}\}} (\S+)$"
    found = re.findall(pattern, metrics_text, flags=re.MULTILINE)
    return sum(float(v) for v in found)


async def test_hits_are_counted_and_equal_to_the_first_answer(prometheus, make_client):
    settings = Settings(prometheus_url=prometheus.url, cache_ttl_seconds=600)
    async with make_client(settings) as client:
        first = await client.get(P95, params={"time": END})
        hits = [await client.get(P95, params={"time": END}) for _ in range(5)]
        no_slash = await client.get(P95.rstrip("/"), params={"time": END})
        metrics = (await client.get("/metrics")).text
    assert first.headers["x-cache"] == "MISS"
    assert [h.headers["x-cache"] for h in [*hits, no_slash]] == ["HIT"] * 6
    assert {h.content for h in [*hits, no_slash]} == {first.content}
    assert requests_counted(metrics, P95) == 7
    assert (
        re.search(r"^model_latency_cache_hits_total (\S+)$", metrics, re.MULTILINE).group(1)
        == "6.0"
    )
    for hit in hits:
        assert hit.headers["content-type"] == first.headers["content-type"]
        assert hit.headers["content-length"] == str(len(first.content))
        assert re.fullmatch(r"max-age=\d+", hit.headers["cache-control"])
        assert 0 < int(hit.headers["cache-control"].removeprefix("max-age=")) <= 600
        assert int(hit.headers["age"]) >= 0


async def test_front_and_inner_layer_send_the_same_headers(prometheus, make_client):
    """With CORS on, an Origin request takes the full stack; its hit carries CORS headers."""
    origin = "http://dashboard.example"
    settings = Settings(
        prometheus_url=prometheus.url, cache_ttl_seconds=600, cors_allowed_origins=[origin]
    )
    async with make_client(settings) as client:
        await client.get(P95, params={"time": END})
        front = await client.get(P95, params={"time": END})
        inner = await client.get(P95, params={"time": END}, headers={"Origin": origin})
    assert inner.headers["access-control-allow-origin"] == origin
    assert "access-control-allow-origin" not in front.headers
    shared = {k: v for k, v in inner.headers.items() if not k.startswith("access-control")}
    shared.pop("vary", None)
    assert {k: v for k, v in front.headers.items() if k != "age"} == {
        k: v for k, v in shared.items() if k != "age"
    }
    assert front.content == inner.content


async def test_other_paths_and_methods_pass_through(prometheus, make_client):
    settings = Settings(prometheus_url=prometheus.url, cache_ttl_seconds=600)
    async with make_client(settings) as client:
        await client.get(P95, params={"time": END})
        head = await client.head(P95, params={"time": END})
        missing = await client.get("/api/metrics/nope/")
    assert "x-cache" not in head.headers or head.headers["x-cache"] != "HIT"
    assert missing.status_code == 404
