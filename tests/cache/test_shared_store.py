"""RedisStore keeps entries with the local store's TTL-slot semantics, in a real Redis."""

from __future__ import annotations

import asyncio
import time

import orjson
from redis.asyncio import Redis

from app.cache.shared import RedisStore
from app.cache.store import Slots
from tests.cache.conftest import StoreFactory, entry


async def test_put_then_fresh_and_stale_give_back_the_exact_entry(make_store: StoreFactory):
    store = await make_store()
    text = "".join(map(chr, range(32, 0x3000, 7)))
    kept = entry(orjson.dumps({"text": text}), stored_at=time.time())
    await store.put("q?model=a", kept)
    assert await store.fresh("q?model=a") == kept
    assert await store.stale("q?model=a") == kept


async def test_an_unknown_key_is_none(make_store: StoreFactory):
    store = await make_store()
    assert await store.fresh("nothing") is None
    assert await store.stale("nothing") is None


async def test_an_entry_from_an_earlier_slot_is_stale_but_kept(make_store: StoreFactory):
    store = await make_store(slots=Slots(ttl=60, stale_seconds=600))
    older = entry(stored_at=time.time() - 60)  # one whole slot ago: its slot has ended
    await store.put("k", older)
    assert await store.fresh("k") is None
    assert await store.stale("k") == older


async def test_redis_keeps_the_entry_until_the_end_of_its_slot_plus_stale_seconds(
    make_store: StoreFactory, raw_redis: Redis
):
    slots = Slots(ttl=60, stale_seconds=600)
    store = await make_store(slots=slots)
    now = time.time()
    await store.put("k", entry(stored_at=now))
    expected_ms = (slots.kept_until(now) - now) * 1000
    assert abs(await raw_redis.pttl(f"{store.prefix}entry:k") - expected_ms) < 200


async def test_with_real_time_the_entry_turns_stale_then_goes(make_store: StoreFactory):
    store = await make_store(slots=Slots(ttl=1, stale_seconds=0.5))
    now = time.time()
    kept = entry(stored_at=now)
    await store.put("k", kept)
    assert await store.fresh("k") == kept
    await asyncio.sleep(Slots(1).fresh_until(now) - time.time() + 0.05)
    assert await store.fresh("k") is None
    assert await store.stale("k") == kept
    await asyncio.sleep(0.6)
    assert await store.stale("k") is None


async def test_an_entry_past_its_stale_period_is_not_written(make_store: StoreFactory):
    store = await make_store(slots=Slots(ttl=1, stale_seconds=0))
    await store.put("k", entry(stored_at=time.time() - 5))
    assert await store.stale("k") is None


async def test_an_oversized_entry_is_not_stored(make_store: StoreFactory):
    store = await make_store(max_entry_bytes=1024)
    now = time.time()
    small = entry(b'{"x": "%s"}' % (b"x" * 100), stored_at=now)
    large = entry(b'{"x": "%s"}' % (b"x" * 1024), stored_at=now)
    await store.put("small", small)
    await store.put("large", large)
    assert await store.stale("small") == small
    assert await store.stale("large") is None


async def test_stores_with_different_prefixes_do_not_see_each_other(make_store: StoreFactory):
    first, second = await make_store(prefix="one:"), await make_store(prefix="two:")
    await first.put("k", entry(stored_at=time.time()))
    assert await second.stale("k") is None
    assert await second.claim("k", 5)
    assert await first.claim("k", 5)
    await first.release("k")
    await second.release("k")


async def test_the_observer_hears_every_redis_call(make_store: StoreFactory):
    calls: list[tuple[str, str]] = []
    store = await make_store(observer=lambda op, outcome, _: calls.append((op, outcome)))
    await store.fresh("k")
    await store.put("k", entry(stored_at=time.time()))
    await store.fresh("k")
    await store.claim("k", 5)
    await store.claim("k", 5)
    await store.release("k")
    await store.wait("k", 0.1)
    assert calls == [
        ("get", "miss"),
        ("put", "ok"),
        ("get", "hit"),
        ("claim", "ok"),
        ("claim", "miss"),
        ("release", "ok"),
        ("wait", "hit"),
    ]


async def test_health_is_ok_with_a_latency(make_store: StoreFactory):
    health = await (await make_store()).health()
    assert health.ok
    assert health.message == "ok"
    assert 0 < health.latency_ms < 250


async def test_a_store_can_close_before_any_call(redis_server):
    store = RedisStore(redis_server.url, slots=Slots(5), max_entry_bytes=1024)
    await store.close()
