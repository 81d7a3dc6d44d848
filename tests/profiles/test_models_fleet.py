"""With SHARED_CACHE_URL, each signal's answer is shared by the fleet: a second replica
asked another page in the same TTL slot sends the engine no query at all."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.profiles.model import SIGNALS
from app.settings import Settings
from harness.redis import RedisServer
from tests.cache.conftest import start_redis
from tests.support.profile_dataset import END
from tests.support.relay import Relay

pytestmark = pytest.mark.prometheus


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = start_redis(tmp_path)
    yield server
    server.stop()


async def test_a_second_replica_reuses_every_signal_from_the_shared_store(
    make_client, profiles_prometheus, redis
):
    settings = Settings(
        prometheus_url=profiles_prometheus.url,
        cache_ttl_seconds=60,
        shared_cache_url=redis.url,
        shared_cache_prefix=f"test-{uuid.uuid4().hex}:",
    )
    first, second = Relay(), Relay()
    params = {"time": END, "profile": "vllm"}
    async with make_client(settings, transport=first) as one:
        answer = await one.get("/api/models/", params=params)
    async with make_client(settings, transport=second) as two:
        # Another page (another HTTP cache key) asking the same signals.
        other = await two.get(
            "/api/models/", params={**params, "prometheus_url": profiles_prometheus.url}
        )
    assert answer.status_code == other.status_code == 200
    assert len(first.queries()) == len(SIGNALS)  # one per vLLM signal
    assert second.queries() == []
    assert other.json()["data"] == answer.json()["data"]
