"""The HTTP cache layer (app/cache/layer.py) answers hits as the first answer was sent.

It must count hits in the request metrics, treat /api/x and /api/x/ as one resource,
send `Vary: Origin` on every cacheable answer when CORS is on (hits included), and
answer HEAD like GET without a body.
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
    assert re.findall(r"^model_latency_cache_hits_total (\S+)$", metrics, re.MULTILINE) == ["6.0"]
    for hit in hits:
        assert hit.headers["content-type"] == first.headers["content-type"]
        assert hit.headers["content-length"] == str(len(first.content))
        assert re.fullmatch(r"max-age=\d+", hit.headers["cache-control"])
        assert 0 < int(hit.headers["cache-control"].removeprefix("max-age=")) <= 600
        assert int(hit.headers["age"]) >= 0


async def test_with_cors_every_answer_varies_on_origin(prometheus, make_client):
    """A shared HTTP cache must never keep one copy for every origin."""
    origin = "http://dashboard.example"
    settings = Settings(
        prometheus_url=prometheus.url, cache_ttl_seconds=600, cors_allowed_origins=[origin]
    )
    async with make_client(settings) as client:
        miss = await client.get(P95, params={"time": END})
        plain = await client.get(P95, params={"time": END})
        with_origin = await client.get(P95, params={"time": END}, headers={"Origin": origin})
    assert [r.headers["x-cache"] for r in (miss, plain, with_origin)] == ["MISS", "HIT", "HIT"]
    for answer in (miss, plain, with_origin):
        assert "Origin" in answer.headers["vary"]
    assert with_origin.headers["access-control-allow-origin"] == origin
    assert "access-control-allow-origin" not in plain.headers
    assert plain.content == with_origin.content == miss.content


async def test_head_is_get_without_a_body_and_other_methods_are_json_errors(
    prometheus, make_client
):
    settings = Settings(prometheus_url=prometheus.url, cache_ttl_seconds=600)
    async with make_client(settings) as client:
        get = await client.get(P95, params={"time": END})
        head = await client.head(P95, params={"time": END})
        health = await client.head("/health/live")
        post = await client.post(P95)
        missing = await client.get("/api/metrics/nope/")
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == get.headers["content-length"]
    assert head.headers["x-cache"] == "HIT"
    assert (health.status_code, health.content) == (200, b"")
    assert post.status_code == 405
    assert post.json()["status"] == "error"
    assert missing.status_code == 404
    assert missing.json()["status"] == "error"
    for answer in (get, head, post, missing):
        assert answer.headers["x-content-type-options"] == "nosniff"
    assert missing.headers["cache-control"] == "no-store"
