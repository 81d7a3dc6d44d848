"""What the cache keeps: never an answer larger than its bound, never a partial answer."""

from __future__ import annotations

import httpx

from app.settings import Settings

URL = "http://prometheus.test"
MB = 1 << 20


def answer_with(result: list[dict[str, object]], warnings: list[str] | None = None):
    def answer(request: httpx.Request) -> httpx.Response:
        probe = b"histogram_kind" in request.content  # which kind of histogram: classic
        data = {"resultType": "vector", "result": [] if probe else result}
        body: dict[str, object] = {"status": "success", "data": data}
        if warnings:
            body["warnings"] = warnings
        return httpx.Response(200, json=body)

    return answer


def many_models(count: int) -> list[dict[str, object]]:
    name = "m" * 150
    return [{"metric": {"model": f"{name}-{i}"}, "value": [1, "0.25"]} for i in range(count)]


async def test_an_answer_larger_than_the_cache_is_served_but_not_kept(make_client):
    answer = answer_with(many_models(12_000))  # about 2.5 MB of answer
    settings = Settings(prometheus_url=URL, cache_max_bytes=MB, cache_ttl_seconds=600)
    async with make_client(settings, httpx.MockTransport(answer)) as client:
        first = await client.get("/api/metrics/p95/?time=1700000000")
        again = await client.get("/api/metrics/p95/?time=1700000000")
    assert len(first.content) > MB
    assert (first.status_code, again.status_code) == (200, 200)
    assert [first.headers["x-cache"], again.headers["x-cache"]] == ["MISS", "MISS"]


async def test_a_partial_answer_is_served_no_store_and_never_kept(make_client):
    answer = answer_with(many_models(2), warnings=["store gateway unavailable"])
    settings = Settings(prometheus_url=URL, cache_ttl_seconds=600)
    async with make_client(settings, httpx.MockTransport(answer)) as client:
        first = await client.get("/api/metrics/p95/?time=1700000000")
        again = await client.get("/api/metrics/p95/?time=1700000000")
    assert first.json()["partial"] is True
    assert first.headers["cache-control"] == "no-store"
    assert [first.headers["x-cache"], again.headers["x-cache"]] == ["MISS", "MISS"]


async def test_a_promql_note_is_not_a_partial_answer(make_client):
    answer = answer_with(many_models(2), warnings=["PromQL info: metric might not be a counter"])
    settings = Settings(prometheus_url=URL, cache_ttl_seconds=600)
    async with make_client(settings, httpx.MockTransport(answer)) as client:
        first = await client.get("/api/metrics/p95/?time=1700000000")
        again = await client.get("/api/metrics/p95/?time=1700000000")
    assert first.json()["partial"] is False
    assert [first.headers["x-cache"], again.headers["x-cache"]] == ["MISS", "HIT"]


async def test_health_answers_say_no_store(make_client):
    answer = answer_with([])
    async with make_client(Settings(prometheus_url=URL), httpx.MockTransport(answer)) as client:
        for path in ("/health/live", "/health/ready", "/health", "/api/health/"):
            response = await client.get(path)
            assert response.headers["cache-control"] == "no-store", path
            assert response.headers["x-content-type-options"] == "nosniff", path
