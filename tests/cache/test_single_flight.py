"""Fleet-wide single-flight: two RedisStores on one Redis stand for two replicas."""

from __future__ import annotations

import asyncio
import time

from redis.asyncio import Redis

from app.cache.shared import RedisStore
from tests.cache.conftest import StoreFactory, entry


async def replicas(make_store: StoreFactory) -> tuple[RedisStore, RedisStore]:
    first = await make_store()
    return first, await make_store(prefix=first.prefix)


async def subscribers(raw_redis: Redis, store: RedisStore, key: str) -> int:
    [(_, count)] = await raw_redis.pubsub_numsub(f"{store.prefix}done:{key}")
    return int(count)


async def test_one_replica_renders_while_the_other_waits_for_its_answer(
    make_store: StoreFactory, raw_redis: Redis
):
    renderer, waiter = await replicas(make_store)
    assert await renderer.claim("k", 5)
    assert not await waiter.claim("k", 5)
    waiting = asyncio.create_task(waiter.wait("k", 5))
    await asyncio.sleep(0.1)
    rendered = entry(b'{"answer": 1}', stored_at=time.time())
    started = time.monotonic()
    await renderer.put("k", rendered)
    await renderer.release("k")
    assert await waiting == rendered
    assert time.monotonic() - started < 0.5
    assert await subscribers(raw_redis, waiter, "k") == 0


async def test_a_wait_finds_an_answer_stored_before_it_began(make_store: StoreFactory):
    renderer, waiter = await replicas(make_store)
    rendered = entry(stored_at=time.time())
    await renderer.put("k", rendered)
    assert await waiter.wait("k", 5) == rendered


async def test_a_wait_with_no_answer_times_out_with_none(
    make_store: StoreFactory, raw_redis: Redis
):
    renderer, waiter = await replicas(make_store)
    assert await renderer.claim("k", 5)
    started = time.monotonic()
    assert await waiter.wait("k", 0.3) is None
    assert 0.3 <= time.monotonic() - started < 0.8
    assert await subscribers(raw_redis, waiter, "k") == 0


async def test_with_nobody_rendering_a_wait_ends_at_once(make_store: StoreFactory):
    _, waiter = await replicas(make_store)
    started = time.monotonic()
    assert await waiter.wait("k", 5) is None
    assert time.monotonic() - started < 0.2


async def test_a_release_without_an_answer_ends_the_wait_early(make_store: StoreFactory):
    renderer, waiter = await replicas(make_store)
    assert await renderer.claim("k", 5)
    waiting = asyncio.create_task(waiter.wait("k", 5))
    await asyncio.sleep(0.1)
    started = time.monotonic()
    await renderer.release("k")  # rendering failed
    assert await waiting is None
    assert time.monotonic() - started < 0.5
    assert await waiter.claim("k", 5)  # so the waiter may try itself


async def test_a_cancelled_wait_leaves_no_subscription(make_store: StoreFactory, raw_redis: Redis):
    renderer, waiter = await replicas(make_store)
    assert await renderer.claim("k", 5)
    waiting = asyncio.create_task(waiter.wait("k", 5))
    await asyncio.sleep(0.1)
    assert await subscribers(raw_redis, waiter, "k") == 1
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    await asyncio.sleep(0.05)
    assert await subscribers(raw_redis, waiter, "k") == 0


async def test_a_stale_answer_does_not_end_the_wait(make_store: StoreFactory):
    renderer, waiter = await replicas(make_store)
    assert await renderer.claim("k", 5)
    waiting = asyncio.create_task(waiter.wait("k", 0.3))
    await asyncio.sleep(0.1)
    await renderer.put("k", entry(stored_at=time.time() - 60))
    assert await waiting is None


async def test_a_claim_expires_and_release_frees_only_its_own(make_store: StoreFactory):
    first, second = await replicas(make_store)
    assert await first.claim("k", 0.1)
    await asyncio.sleep(0.2)
    assert await second.claim("k", 5)  # the first one's claim ran out
    await first.release("k")  # must not free the second one's claim
    assert not await first.claim("k", 5)
    await second.release("k")
    assert await first.claim("k", 5)
    await first.release("k")


async def test_many_concurrent_claims_have_one_winner(make_store: StoreFactory):
    stores = [await make_store(prefix="race:") for _ in range(5)]
    await stores[0]._redis.delete("race:lock:k")
    won = await asyncio.gather(*(store.claim("k", 5) for store in stores))
    assert sorted(won) == [False] * 4 + [True]
    for store in stores:
        await store.release("k")
