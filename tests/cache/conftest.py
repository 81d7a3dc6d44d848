"""A real Redis for the shared-store tests, and stores that close themselves.

async def test_something(make_store):
    store = await make_store()            # a fresh prefix: tests never see each other
    replica = await make_store(prefix=store.prefix)   # a second replica, same cache
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from app.cache.shared import RedisStore
from app.cache.store import Entry, Slots
from harness.redis import REDIS_SERVER, RedisServer
from tests.conftest import require_binary

StoreFactory = Callable[..., Awaitable[RedisStore]]


JSON = ((b"content-type", b"application/json"),)


def entry(body: bytes = b'{"p95": 0.25}', *, stored_at: float) -> Entry:
    """An entry as the cache keeps them: a JSON object and its content type."""
    return Entry(body, JSON, stored_at)


def start_redis(workdir: Path) -> RedisServer:
    require_binary(REDIS_SERVER)
    return RedisServer(workdir).start()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One Redis for the session; tests keep apart by prefix."""
    server = start_redis(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of this test's own, to stop, freeze and restart."""
    server = start_redis(tmp_path)
    yield server
    server.stop()


@pytest.fixture
async def raw_redis(redis_server: RedisServer) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_server.url)
    yield client
    await client.aclose()


@pytest.fixture
async def make_store(redis_server: RedisServer) -> AsyncIterator[StoreFactory]:
    stores: list[RedisStore] = []

    async def factory(**options: Any) -> RedisStore:
        options.setdefault("url", redis_server.url)
        options.setdefault("slots", Slots(ttl=60, stale_seconds=600))
        options.setdefault("max_entry_bytes", 1 << 20)
        options.setdefault("prefix", f"test-{uuid.uuid4().hex[:10]}:")
        store = RedisStore(options.pop("url"), **options)
        stores.append(store)
        return store

    yield factory
    for store in stores:
        await store.close()
