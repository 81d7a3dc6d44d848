"""compare=<duration> on /api/models/ against a real Prometheus: each row's ``previous``
is the plain scorecard asked at the earlier ``time``, ``change_pct`` the change in
percent key by key; a settled earlier scorecard is kept, so a refresh in a new TTL slot
asks the engine only for the answer at ``time``."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from app.services.models import VALUE_FIELDS
from app.settings import Settings
from tests.support.engine import change_pct
from tests.support.profile_dataset import END
from tests.support.relay import Relay

pytestmark = pytest.mark.prometheus

EARLIER = 900  # idle models still had traffic then


async def rows(client: httpx.AsyncClient, **params) -> dict[tuple[str, str], dict]:
    response = await client.get("/api/models/", params=params)
    assert response.status_code == 200, response.text
    return {(row["model"], row["source"]): row for row in response.json()["data"]}


async def test_previous_is_the_plain_scorecard_at_the_earlier_time(
    profiles_prometheus, make_client
):
    settings = Settings(prometheus_url=profiles_prometheus.url, cache_ttl_seconds=0)
    async with make_client(settings) as client:
        compared = await rows(client, time=END, compare="15m")
        now = await rows(client, time=END)
        before = await rows(client, time=END - EARLIER)
    assert set(compared) == set(now)
    assert {source for _, source in compared} >= {"vllm", "litellm"}
    changed = 0
    for key, row in compared.items():
        assert {name: row[name] for name in VALUE_FIELDS} == {
            name: now[key][name] for name in VALUE_FIELDS
        }
        earlier = {name: before[key][name] for name in VALUE_FIELDS}
        assert row["previous"] == earlier, key
        assert row["change_pct"] == change_pct({name: row[name] for name in VALUE_FIELDS}, earlier)
        changed += row["previous"] != {name: row[name] for name in VALUE_FIELDS}
    assert changed  # idle models stopped ten minutes before END


async def test_rows_of_one_model_from_two_sources_are_compared_apart(
    profiles_prometheus, make_client
):
    settings = Settings(prometheus_url=profiles_prometheus.url, cache_ttl_seconds=0)
    async with make_client(settings) as client:
        compared = await rows(client, time=END, compare="15m")
        before = await rows(client, time=END - EARLIER)
    by_model: dict[str, list[tuple[str, str]]] = {}
    for key in compared:
        by_model.setdefault(key[0], []).append(key)
    for keys in by_model.values():
        for key in keys:
            assert compared[key]["previous"]["latency_ms"] == before[key]["latency_ms"]


async def test_a_model_absent_earlier_has_null_previous_values(profiles_prometheus, make_client):
    settings = Settings(prometheus_url=profiles_prometheus.url, cache_ttl_seconds=0)
    async with make_client(settings) as client:
        compared = await rows(client, time=END, compare="30d", profile="vllm")
    for row in compared.values():
        assert row["previous"]["requests_per_second"] is None
        assert row["change_pct"]["requests_per_second"] is None
        assert set(row["previous"]) == set(VALUE_FIELDS)


async def test_a_settled_earlier_scorecard_is_asked_once(profiles_prometheus, make_client):
    relay = Relay()
    settings = Settings(prometheus_url=profiles_prometheus.url, cache_ttl_seconds=1)
    params = {"time": END, "compare": "1d", "profile": "vllm"}
    async with make_client(settings, transport=relay) as client:
        first = await client.get("/api/models/", params=params)
        asked_first = len(relay.queries())
        relay.clear()
        await asyncio.sleep(1.05 - time.time() % 1)  # the next TTL slot
        second = await client.get("/api/models/", params=params)
        asked_again = len(relay.queries())
    assert first.status_code == second.status_code == 200
    assert asked_again * 2 == asked_first  # only the signals at `time` again
    assert second.json()["data"] == first.json()["data"]


@pytest.mark.parametrize("bad", ["31d", "yesterday", "0s"])
async def test_a_bad_compare_is_a_400_naming_it(profiles_prometheus, make_client, bad):
    settings = Settings(prometheus_url=profiles_prometheus.url)
    async with make_client(settings) as client:
        response = await client.get("/api/models/", params={"compare": bad})
    assert response.status_code == 400
    assert "compare" in response.text
