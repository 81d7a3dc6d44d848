"""compare=<duration> against a real Prometheus: each row's ``previous`` is the plain
answer at the earlier instant, ``change_pct`` the change in percent; settled earlier
evaluations are kept, so a refresh in a new TTL slot asks the engine once."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from app.settings import Settings
from tests.support.dataset import END
from tests.support.engine import change_pct

pytestmark = pytest.mark.prometheus

CASES = [
    ("/api/metrics/", {}, ("p50_latency_ms", "p95_latency_ms", "p99_latency_ms")),
    ("/api/metrics/p95/", {}, ("p95_latency_ms",)),
    ("/api/metrics/percentiles/", {"percentiles": "50,99.9"}, ("percentiles",)),
    (
        "/api/metrics/slo/",
        {"threshold_ms": "300", "apdex_t_ms": "100"},
        ("share_under_threshold", "apdex"),
    ),
]


async def rows(client: httpx.AsyncClient, path: str, **params) -> dict[str, dict]:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return {row["model"]: row for row in response.json()["data"]}


@pytest.mark.parametrize(("path", "extra", "fields"), CASES)
async def test_previous_is_the_plain_answer_at_the_earlier_instant(
    prometheus, make_client, path, extra, fields
):
    settings = Settings(prometheus_url=prometheus.url, cache_ttl_seconds=0)
    async with make_client(settings) as client:
        compared = await rows(client, path, time=END, compare="1h", **extra)
        now = await rows(client, path, time=END, **extra)
        before = await rows(client, path, time=END - 3600, **extra)
    assert set(compared) == set(now)
    changed = 0
    for model, row in compared.items():
        values = {key: now[model][key] for key in fields}
        earlier = {key: before[model][key] for key in fields}
        assert {key: row[key] for key in fields} == values
        assert row["previous"] == earlier
        assert row["change_pct"] == change_pct(values, earlier)
        changed += row["change_pct"] != change_pct(values, values)
    assert changed  # llama-3 degrades during the hour before END


async def test_a_model_absent_earlier_has_null_previous_values(prometheus, make_client):
    settings = Settings(prometheus_url=prometheus.url, cache_ttl_seconds=0)
    async with make_client(settings) as client:
        compared = await rows(client, "/api/metrics/p95/", time=END, compare="30d")
    for row in compared.values():
        assert row["previous"] == {"p95_latency_ms": None}
        assert row["change_pct"] == {"p95_latency_ms": None}


class Recording(httpx.AsyncHTTPTransport):
    """The real transport, noting each instant query that is not the kind probe."""

    def __init__(self) -> None:
        super().__init__()
        self.queries: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read().decode()
        if request.url.path.endswith("/api/v1/query") and "histogram_kind" not in body:
            self.queries.append(body)
        return await super().handle_async_request(request)


async def test_a_settled_earlier_evaluation_is_asked_once(prometheus, make_client):
    transport = Recording()
    settings = Settings(prometheus_url=prometheus.url, cache_ttl_seconds=1)
    params = {"time": END, "compare": "1d", "threshold_ms": "300"}
    async with make_client(settings, transport) as client:
        first = await client.get("/api/metrics/slo/", params=params)
        assert len(transport.queries) == 2  # now and a day before
        await asyncio.sleep(1.05 - time.time() % 1)  # the next TTL slot
        second = await client.get("/api/metrics/slo/", params=params)
    assert second.headers["x-cache"] == "MISS"
    assert len(transport.queries) == 3  # only the evaluation at `time` again
    assert second.json()["data"] == first.json()["data"]


async def test_the_new_endpoints_are_answered_from_the_cache_within_a_ttl(prometheus, make_client):
    settings = Settings(prometheus_url=prometheus.url, cache_ttl_seconds=600)
    asked = [
        ("/api/metrics/slo/?threshold_ms=300&time=", "/api/metrics/slo/?threshold_ms=3e2&time="),
        ("/api/metrics/distribution/?time=", "/api/metrics/distribution/?time="),
        ("/api/metrics/p95/?compare=1h&time=", "/api/metrics/p95/?compare=1h&time="),
    ]
    async with make_client(settings) as client:
        for first, again in asked:
            one = await client.get(f"{first}{END}")
            two = await client.get(f"{again}{END}")
            assert [one.headers["x-cache"], two.headers["x-cache"]] == ["MISS", "HIT"], first
            assert one.content == two.content
        plain = await client.get(f"/api/metrics/p95/?time={END}")
        assert plain.headers["x-cache"] == "MISS"  # compare is part of the key
