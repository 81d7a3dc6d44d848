"""The shared response store: Redis, with a fleet-wide single-flight.

``RedisStore`` implements ``ResponseStore`` (``app/cache/store.py``) with the local
store's TTL-slot semantics, so every replica answers from one cache and renders each
question at most once per slot:

- ``<prefix>entry:<key>`` holds an entry (``EntryCodec.encode``, app/cache/codec.py)
  until the end of its slot plus ``stale_seconds`` (``SET ... PX``), at most
  ``max_entry_bytes``; what is read back is decoded only if this service could have
  written it (validated, and signed with ``secret``), else it is a miss;
- ``<prefix>lock:<key>`` is the render claim (``SET NX PX``, released only by its owner);
- ``<prefix>done:<key>`` is a pub/sub channel: ``put`` publishes the entry there and a
  ``release`` publishes an empty message, so waiters wake at once.

The cache is never why a request fails. Every Redis call is bounded by ``op_timeout``
and passes a circuit breaker (``app/breaker.py``); on any failure, or while the breaker is
open, reads answer ``None``, writes do nothing and ``claim`` answers ``True`` (render
it yourself). No Redis exception leaves the store.

    store = RedisStore("redis://:secret@cache:6379/0", slots=Slots(5, 300),
                       max_entry_bytes=1 << 20, observer=metrics.observe)
    if await store.claim(key, seconds=10):
        try: await store.put(key, await render())
        finally: await store.release(key)
    else:
        entry = await store.wait(key, seconds=10)
    await store.close()
"""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from app.breaker import BreakerState, CircuitBreaker
from app.cache.codec import EntryCodec
from app.cache.redis_calls import (
    FAILED,
    GET_CAPPED,
    RELEASE,
    Failed,
    always_ok,
    close_pubsub,
    describe,
    elapsed_ms,
    found,
)
from app.cache.store import Entry, Slots, StoreHealth

logger = logging.getLogger(__name__)

Observer = Callable[[str, str, float], None]
"""``observer(operation, outcome, seconds)``: operation in get/put/claim/wait/release,
outcome in hit/miss/ok/error/skipped. Called once per Redis call; it must not raise."""

T = TypeVar("T")


Health = StoreHealth


class RedisStore:
    """A ``ResponseStore`` in Redis, shared by every replica (see the module docstring).

    ``url`` is anything ``redis.asyncio.Redis.from_url`` takes: ``redis://``, ``rediss://``
    (TLS), ``unix://``, with a password and database in it. Call ``close()`` at shutdown.
    """

    def __init__(
        self,
        url: str,
        *,
        slots: Slots,
        max_entry_bytes: int,
        prefix: str = "mla:",
        op_timeout: float = 0.25,
        failure_threshold: int = 3,
        cooldown: float = 2.0,
        observer: Observer | None = None,
        clock: Callable[[], float] = time.time,
        secret: bytes | None = None,
    ) -> None:
        self.slots = slots
        self.codec = EntryCodec(secret=secret, clock=clock)
        self.max_entry_bytes = max_entry_bytes
        self.prefix = prefix
        self.op_timeout = op_timeout
        self.observer = observer
        self.clock = clock
        self.breaker = CircuitBreaker(threshold=failure_threshold, cooldown=cooldown)
        # No retries inside redis-py: op_timeout is the whole budget of a call.
        self._redis: Redis = Redis.from_url(
            url,
            socket_timeout=op_timeout,
            socket_connect_timeout=op_timeout,
            retry=Retry(NoBackoff(), 0),
        )
        self._release = self._redis.register_script(RELEASE)
        self._get_capped = self._redis.register_script(GET_CAPPED)
        self._tokens: dict[str, str] = {}

    async def close(self) -> None:
        """Close the connection pool."""
        await self._redis.aclose()

    # ResponseStore --------------------------------------------------------------------
    async def fresh(self, key: str) -> Entry | None:
        result = await self._run("get", lambda: self._get_fresh(key), found)
        return None if result is FAILED else result

    async def stale(self, key: str) -> Entry | None:
        result = await self._run("get", lambda: self._get(key), found)
        return None if result is FAILED else result

    async def put(self, key: str, entry: Entry) -> None:
        milliseconds = math.ceil((self.slots.kept_until(entry.stored_at) - self.clock()) * 1000)
        if milliseconds <= 0 or entry.size(key) > self.max_entry_bytes:
            return
        data = self.codec.encode(self._entry(key), entry)
        await self._run("put", lambda: self._set(key, data, milliseconds), always_ok)

    async def claim(self, key: str, seconds: float) -> bool:
        token = secrets.token_hex(16)
        milliseconds = max(1, math.ceil(seconds * 1000))
        won = await self._run(
            "claim",
            lambda: self._redis.set(self._lock(key), token, nx=True, px=milliseconds),
            lambda won: "ok" if won else "miss",
        )
        if won is FAILED:
            return True
        if won:
            self._tokens[key] = token
        return bool(won)

    async def wait(self, key: str, seconds: float) -> Entry | None:
        result = await self._run(
            "wait", lambda: self._wait(key, seconds), found, budget=seconds + self.op_timeout
        )
        return None if result is FAILED else result

    async def release(self, key: str) -> None:
        token = self._tokens.pop(key, None)
        if token is None:  # not claimed through Redis (or Redis was down): nothing to free
            return
        await self._run(
            "release",
            lambda: self._release(keys=[self._lock(key)], args=[token, self._channel(key)]),
            lambda freed: "ok" if freed else "miss",
        )

    async def health(self) -> Health:
        """PING within ``op_timeout``; never raises. Does not touch the breaker."""
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.op_timeout):
                await self._redis.ping()
        except Exception as error:
            return Health(False, describe(error), elapsed_ms(started))
        message = "ok" if self.breaker.state is BreakerState.CLOSED else "breaker open, probing"
        return Health(True, message, elapsed_ms(started))

    # Redis calls ----------------------------------------------------------------------
    async def _run(
        self,
        operation: str,
        call: Callable[[], Awaitable[T]],
        outcome: Callable[[T], str],
        *,
        budget: float | None = None,
    ) -> T | Literal[Failed.FAILED]:
        """One Redis call through the breaker, bounded, observed; FAILED instead of raising."""
        if not self.breaker.allow():
            self._observe(operation, "skipped", 0.0)
            return FAILED
        started = time.perf_counter()
        try:
            async with asyncio.timeout(budget or self.op_timeout):
                result = await call()
        except Exception as error:  # the cache is never why a request fails
            self.breaker.record_failure()
            self._observe(operation, "error", time.perf_counter() - started)
            logger.warning("redis %s failed: %s", operation, describe(error))
            return FAILED
        self.breaker.record_success()
        self._observe(operation, outcome(result), time.perf_counter() - started)
        return result

    async def _get(self, key: str) -> Entry | None:
        data = await self._get_capped(keys=[self._entry(key)], args=[self.max_entry_bytes])
        return self._decode(key, data)

    async def _get_fresh(self, key: str) -> Entry | None:
        return self._fresh_only(await self._get(key))

    async def _set(self, key: str, data: bytes, milliseconds: int) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.set(self._entry(key), data, px=milliseconds)
            pipe.publish(self._channel(key), data)
            await pipe.execute()

    async def _wait(self, key: str, seconds: float) -> Entry | None:
        """Subscribe, look once, then listen until a fresh entry, a release, or the deadline.

        The subscription is confirmed before the look, so a ``put`` or ``release`` that
        lands in between is seen by one or the other. With no entry and no claim, nobody
        is rendering: None at once, and the caller renders itself."""
        deadline = asyncio.get_running_loop().time() + seconds
        pubsub = self._redis.pubsub()
        try:
            async with asyncio.timeout(self.op_timeout):
                await pubsub.subscribe(self._channel(key))
                if await pubsub.get_message(timeout=self.op_timeout) is None:
                    raise TimeoutError("no confirmation of SUBSCRIBE")
                entry, claimed = await self._look(key)
            if entry is not None or not claimed:
                return entry
            return await self._listen(key, pubsub, deadline)
        finally:
            await asyncio.shield(close_pubsub(pubsub))

    async def _look(self, key: str) -> tuple[Entry | None, bool]:
        """The fresh entry for ``key``, and whether someone holds the claim on it."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.eval(GET_CAPPED, 1, self._entry(key), self.max_entry_bytes)
            pipe.exists(self._lock(key))
            data, claimed = await pipe.execute()
        return self._fresh_only(self._decode(key, data)), bool(claimed)

    async def _listen(self, key: str, pubsub: PubSub, deadline: float) -> Entry | None:
        loop = asyncio.get_running_loop()
        while (remaining := deadline - loop.time()) > 0:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=remaining)
            if message is None:
                continue
            if not message["data"]:  # released without storing a fresh answer
                return None
            if (entry := self._fresh_only(self._decode(key, message["data"]))) is not None:
                return entry
        return None

    # helpers --------------------------------------------------------------------------
    def _decode(self, key: str, data: object) -> Entry | None:
        """The entry in ``data`` if it is one this service could have written, and not
        larger than an entry may be (app/cache/codec.py)."""
        if not isinstance(data, bytes) or len(data) > self.max_entry_bytes:
            return None
        return self.codec.decode(self._entry(key), data)

    def _fresh_only(self, entry: Entry | None) -> Entry | None:
        return entry if entry is not None and self.slots.is_fresh(entry, self.clock()) else None

    def _entry(self, key: str) -> str:
        return f"{self.prefix}entry:{key}"

    def _lock(self, key: str) -> str:
        return f"{self.prefix}lock:{key}"

    def _channel(self, key: str) -> str:
        return f"{self.prefix}done:{key}"

    def _observe(self, operation: str, outcome: str, seconds: float) -> None:
        if self.observer is not None:
            self.observer(operation, outcome, seconds)
