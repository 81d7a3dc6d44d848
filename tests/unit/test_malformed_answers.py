"""A malformed upstream answer is a 502 with the JSON error body, never a 500.

Each answer below is what a broken proxy or engine could send with HTTP 200; before the
one mapping in app/promql/failures.py, several of them escaped as 500s or as data.
"""

from __future__ import annotations

import httpx
import pytest

from app.settings import Settings

URL = "http://prometheus.test"
DEEP = b'{"status":"success","data":' + b"[" * 100_000 + b"]" * 100_000 + b"}"


def vector(result: list[dict[str, object]]) -> dict[str, object]:
    return {"status": "success", "data": {"resultType": "vector", "result": result}}


def matrix(result: list[dict[str, object]]) -> dict[str, object]:
    return {"status": "success", "data": {"resultType": "matrix", "result": result}}


INSTANT = [
    ("deeply nested JSON", DEEP),
    ("a boolean value", vector([{"metric": {"model": "a", "le": "+Inf"}, "value": [1, True]}])),
    ("a null label", vector([{"metric": {"model": None, "le": "+Inf"}, "value": [1, "1"]}])),
    ("a numeric label", vector([{"metric": {"model": 7, "le": "+Inf"}, "value": [1, "1"]}])),
    ("a NaN timestamp", vector([{"metric": {"model": "a", "le": "+Inf"}, "value": ["NaN", "1"]}])),
    ("a matrix where a vector belongs", matrix([])),
]
RANGE = [
    ("a NaN timestamp", matrix([{"metric": {"model": "a"}, "values": [["NaN", "0.1"]]}])),
    ("a null value", matrix([{"metric": {"model": "a"}, "values": [[1, None]]}])),
    ("values that are not pairs", matrix([{"metric": {"model": "a"}, "values": [[1]]}])),
]


async def ask(make_client, body: object, path: str, **params: str) -> httpx.Response:
    def answer(request: httpx.Request) -> httpx.Response:
        if b"histogram_kind" in request.content:
            return httpx.Response(200, json=vector([]))
        if isinstance(body, bytes):
            return httpx.Response(200, content=body, headers={"content-type": "application/json"})
        return httpx.Response(200, json=body)

    settings = Settings(prometheus_url=URL, cache_ttl_seconds=0)
    async with make_client(settings, httpx.MockTransport(answer)) as client:
        return await client.get(path, params=params)


@pytest.mark.parametrize(("what", "body"), INSTANT, ids=[w for w, _ in INSTANT])
async def test_malformed_instant_answers_are_502(make_client, what, body):
    response = await ask(make_client, body, "/api/metrics/p95/")
    assert response.status_code == 502, (what, response.text)
    assert response.json()["status"] == "error"


@pytest.mark.parametrize(("what", "body"), RANGE, ids=[w for w, _ in RANGE])
async def test_malformed_range_answers_are_502(make_client, what, body):
    for path in ("/api/metrics/p95/range/", "/api/metrics/history/"):
        response = await ask(make_client, body, path)
        assert response.status_code == 502, (what, path, response.text)
        assert response.json()["status"] == "error"
