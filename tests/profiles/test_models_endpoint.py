"""/api/models/ as a whole: detection, fan-out through the cache, failures, bad input."""

from __future__ import annotations

import asyncio

import pytest

from app.profiles.model import SIGNALS
from app.settings import Settings
from tests.support.profile_dataset import END
from tests.support.relay import Relay

pytestmark = pytest.mark.prometheus

BUILT_IN = {"vllm", "sglang", "tgi", "litellm", "triton", "otel-genai", "default"}


@pytest.fixture
def settings(profiles_prometheus) -> Settings:
    return Settings(prometheus_url=profiles_prometheus.url, cache_ttl_seconds=60)


async def test_auto_detection_finds_every_profile_and_each_answers_its_models(
    make_client, settings
):
    async with make_client(settings) as client:
        response = await client.get("/api/models/", params={"time": END})
    body = response.json()
    assert response.status_code == 200, body
    pairs = [(row["model"], row["source"]) for row in body["data"]]
    assert {source for _, source in pairs} == BUILT_IN
    assert len(pairs) == len(set(pairs)), "each model once per source"
    assert pairs == sorted(pairs)
    assert body["count"] == len(body["data"])
    assert set(body) == {
        "status", "data", "count", "last_updated", "warnings", "partial", "stale", "missing"
    }  # fmt: skip
    assert body["missing"] == []  # some profile has every signal
    assert body["partial"] is False


async def test_two_profiles_pinned_side_by_side_both_answer(make_client, settings):
    pinned = settings.model_copy(update={"model_profile": "vllm,litellm"})
    async with make_client(pinned) as client:
        body = (await client.get("/api/models/", params={"time": END})).json()
    assert {row["source"] for row in body["data"]} == {"vllm", "litellm"}
    litellm = [row for row in body["data"] if row["source"] == "litellm"]
    assert [row["model"] for row in litellm] == ["gpt-4o"]
    assert litellm[0]["latency_ms"]["p95"] is not None
    assert litellm[0]["success_ratio"] is not None


async def test_one_query_per_signal_and_a_hundred_pollers_share_one_set(make_client, settings):
    relay = Relay()
    async with make_client(settings, transport=relay) as client:
        params = {"time": END, "profile": "vllm"}
        answers = await asyncio.gather(
            *(client.get("/api/models/", params=params) for _ in range(100))
        )
        assert {r.status_code for r in answers} == {200}
        queries = relay.queries()
        assert len(queries) == len(SIGNALS), queries  # every vLLM signal, once
        assert relay.name_lookups() == 1
        relay.clear()
        # Another page (another cache key) in the same slot reuses every signal's answer.
        again = await client.get(
            "/api/models/", params={**params, "prometheus_url": settings.prometheus_url}
        )
        assert again.status_code == 200
        assert again.headers["x-cache"] == "MISS"
        assert relay.queries() == []
        assert relay.name_lookups() == 0  # the engine's metric names are remembered
        assert again.json()["data"] == answers[0].json()["data"]


async def test_a_failing_signal_is_null_with_a_warning_partial_and_never_cached(
    make_client, settings
):
    relay = Relay(fail_when="vllm:time_to_first_token_seconds")
    async with make_client(settings, transport=relay) as client:
        params = {"time": END, "profile": "vllm"}
        first = await client.get("/api/models/", params=params)
        second = await client.get("/api/models/", params=params)
    body = first.json()
    assert first.status_code == 200, body
    assert body["partial"] is True
    assert any(w.startswith("vllm ttft: no answer") for w in body["warnings"]), body["warnings"]
    rows = {row["model"]: row for row in body["data"]}
    assert all(row["ttft_ms"] is None for row in rows.values())
    assert rows["llama-3-8b"]["latency_ms"]["p95"] is not None
    assert rows["llama-3-8b"]["requests_per_second"] > 0
    assert first.headers["cache-control"] == "no-store"
    assert second.headers["x-cache"] == "MISS"
    assert relay.refused == 2  # asked again: the failure was not kept


async def test_the_engines_metric_names_are_asked_once_for_every_request(make_client, settings):
    relay = Relay()
    async with make_client(settings, transport=relay) as client:
        asked = [{}, {"profile": "vllm"}, {"profile": "tgi"}, {"window": "10m"}]
        answers = await asyncio.gather(
            *(client.get("/api/models/", params={"time": END, **p}) for p in asked)
        )
        assert [a.status_code for a in answers] == [200] * len(asked)
        later = await client.get("/api/models/", params={"time": END, "profile": "sglang"})
        assert later.status_code == 200
    assert relay.name_lookups() == 1


async def test_model_names_are_escaped_into_every_signals_query(make_client, settings):
    hostile = 'a"} or vector(1) or x{y="'
    async with make_client(settings) as client:
        response = await client.get(
            "/api/models/", params={"time": END, "model": [hostile, "llama-3-8b"]}
        )
    body = response.json()
    assert response.status_code == 200, body
    assert {row["model"] for row in body["data"]} == {"llama-3-8b"}
    assert body["partial"] is False


async def test_when_every_signal_fails_the_last_good_answer_stands_in(make_client, settings):
    relay = Relay()
    short = settings.model_copy(update={"cache_ttl_seconds": 1})
    params = {"time": END, "profile": "vllm"}
    async with make_client(short, transport=relay) as client:
        good = await client.get("/api/models/", params=params)
        relay.fail_when = ""  # every query now fails: Prometheus is gone
        await asyncio.sleep(1.1)  # the next TTL slot
        stale = await client.get("/api/models/", params=params)
        never = await client.get("/api/models/", params={**params, "window": "7m"})
    assert good.status_code == 200
    assert stale.status_code == 200
    assert stale.headers["x-cache"] == "STALE"
    assert stale.json()["stale"] is True
    assert stale.json()["data"] == good.json()["data"]
    assert never.status_code == 503  # nothing to stand in: the one error shape
    assert never.json()["status"] == "error"


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"profile": "nope"}, "profile"),
        ({"profile": "VLLM!"}, "profile"),
        ({"window": "5 minutes"}, "window"),
        ({"percentiles": "100"}, "percentiles"),
        ({"histogram": "both"}, "histogram"),
    ],
)
async def test_bad_parameters_are_400_in_the_one_error_shape(
    make_client, settings, params, parameter
):
    async with make_client(settings) as client:
        response = await client.get("/api/models/", params=params)
    body = response.json()
    assert response.status_code == 400, body
    assert body["status"] == "error"
    assert body["error"] == f"Invalid parameter: {parameter}"
    assert [e["parameter"] for e in body["details"]["errors"]] == [parameter]
