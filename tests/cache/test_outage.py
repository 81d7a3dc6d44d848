"""Redis down, frozen or back: the store answers its fallbacks promptly and recovers."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator

import pytest

from app.cache.shared import RedisStore
from app.cache.store import Entry, Slots
from harness.processes import free_port
from harness.redis import REDIS_SERVER, RedisServer
from tests.cache.conftest import entry
from tests.conftest import require_binary

Calls = list[tuple[str, str]]


@pytest.fixture
async def watched(own_redis: RedisServer) -> AsyncIterator[tuple[RedisStore, Calls]]:
    calls: Calls = []
    store = RedisStore(
        own_redis.url,
        slots=Slots(ttl=60, stale_seconds=600),
        max_entry_bytes=1 << 20,
        op_timeout=0.25,
        failure_threshold=3,
        cooldown=0.5,
        observer=lambda op, outcome, _: calls.append((op, outcome)),
    )
    yield store, calls
    await store.close()


async def fallbacks(store: RedisStore) -> list[object]:
    """Every method once, each within a second, with no exception."""
    answers: list[object] = []
    for call in (
        lambda: store.fresh("k"),
        lambda: store.stale("k"),
        lambda: store.put("k", entry(stored_at=time.time())),
        lambda: store.claim("k", 5),
        lambda: store.wait("k", 5),
        lambda: store.release("k"),
    ):
        started = time.monotonic()
        answers.append(await call())
        assert time.monotonic() - started < 1.0
    return answers


async def test_with_redis_stopped_every_method_falls_back_promptly(watched, own_redis):
    store, calls = watched
    await store.put("k", entry(stored_at=time.time()))
    own_redis.stop()
    assert await fallbacks(store) == [None, None, None, True, None, None]
    assert await fallbacks(store) == [None, None, None, True, None, None]
    assert ("get", "error") in calls
    assert calls[-1][1] == "skipped"  # the breaker is open: Redis is not even asked


async def test_with_redis_frozen_calls_give_up_after_the_op_timeout(watched, own_redis):
    store, _ = watched
    now = time.time()
    first, second = entry(b'{"a": 1}', stored_at=now), entry(b'{"b": 2}', stored_at=now)
    await store.put("a", first)
    await store.put("b", second)
    assert own_redis.process is not None
    os.kill(own_redis.process.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        assert await store.fresh("a") is None
        assert await store.fresh("b") is None
        assert 0.4 <= time.monotonic() - started < 1.0
        assert await fallbacks(store) == [None, None, None, True, None, None]
    finally:
        os.kill(own_redis.process.pid, signal.SIGCONT)
    await recovered(store, "b", second)
    # Late replies to the abandoned calls must never be taken for answers to new ones.
    for _ in range(10):
        assert await store.stale("b") == second
        assert await store.stale("a") == first


async def recovered(store: RedisStore, key: str, expected: Entry, within: float = 5.0) -> None:
    """Wait until ``store`` answers ``key`` from Redis again, after the breaker's cooldown."""
    deadline = time.monotonic() + within
    while (found := await store.stale(key)) != expected and time.monotonic() < deadline:
        assert found is None
        await asyncio.sleep(0.05)
    assert found == expected


async def test_after_a_restart_sharing_resumes_by_itself(watched, own_redis, make_store):
    store, _ = watched
    own_redis.stop()
    await fallbacks(store)
    own_redis.start()
    deadline = time.monotonic() + 5
    while True:
        # Stored now, each time: an entry from before a slot boundary is no longer fresh
        # after it (60 s slots), however often it is put again.
        kept = entry(stored_at=time.time())
        await store.put("k", kept)  # Redis came back empty: no persistence
        found = await store.fresh("k")
        if found == kept or time.monotonic() >= deadline:
            break
        await asyncio.sleep(0.05)
    assert found == kept
    assert await store.claim("k", 5)
    other = await make_store(url=own_redis.url, prefix=store.prefix)
    assert not await other.claim("k", 5)  # single-flight is back, fleet-wide
    await store.release("k")  # the release script is loaded again after the restart
    assert await other.claim("k", 5)
    await other.release("k")


async def test_redis_stopping_during_a_wait_ends_it_promptly(watched, own_redis, make_store):
    store, calls = watched
    other = await make_store(url=own_redis.url, prefix=store.prefix)
    assert await other.claim("k", 30)
    waiting = asyncio.create_task(store.wait("k", 10))
    await asyncio.sleep(0.1)
    started = time.monotonic()
    own_redis.stop()
    assert await waiting is None
    assert time.monotonic() - started < 1.0
    assert calls[-1] == ("wait", "error")


async def test_a_password_in_the_url_is_used(tmp_path):
    require_binary(REDIS_SERVER)
    with RedisServer(tmp_path, password="s3cret") as server:
        good = RedisStore(server.url, slots=Slots(5), max_entry_bytes=1024)
        bad = RedisStore(
            server.url.replace("s3cret", "wrong"), slots=Slots(5), max_entry_bytes=1024
        )
        try:
            assert (await good.health()).ok
            assert await good.claim("k", 5)
            assert not await good.claim("k", 5)
            health = await bad.health()
            assert not health.ok
            assert "Authentication" in health.message or "WRONGPASS" in health.message
            assert await bad.claim("k", 5)  # falls back: render it yourself
        finally:
            await good.close()
            await bad.close()


async def test_health_reports_redis_down_quickly_without_raising(watched, own_redis):
    store, _ = watched
    assert (await store.health()).ok
    own_redis.stop()
    health = await store.health()
    assert not health.ok
    assert health.message
    assert health.latency_ms < 1000


async def test_nothing_listening_is_only_a_miss():
    store = RedisStore(f"redis://127.0.0.1:{free_port()}/0", slots=Slots(5), max_entry_bytes=1024)
    try:
        assert await fallbacks(store) == [None, None, None, True, None, None]
        assert not (await store.health()).ok
    finally:
        await store.close()
