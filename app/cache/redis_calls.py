"""The pieces of ``RedisStore``'s calls to Redis (``app/cache/shared.py``): the Lua
scripts it runs, the ``FAILED`` marker a failed call answers with, and how an outcome
is named for the observer and the logs.
"""

from __future__ import annotations

import logging
import time
from enum import Enum
from typing import Any, Final

from redis.asyncio.client import PubSub

from app.cache.store import Entry

logger = logging.getLogger("app.cache.shared")


class Failed(Enum):
    FAILED = "failed"


FAILED: Final = Failed.FAILED

# The entry, unless it is larger than an entry may be (never read a planted giant).
GET_CAPPED = """
if redis.call('strlen', KEYS[1]) > tonumber(ARGV[1]) then
  return false
end
return redis.call('get', KEYS[1])
"""

# Delete the claim only while it is still ours, and wake the waiters.
RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('del', KEYS[1])
  redis.call('publish', ARGV[2], '')
  return 1
end
return 0
"""


def found(entry: Entry | None) -> str:
    return "miss" if entry is None else "hit"


def always_ok(_: Any) -> str:
    return "ok"


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def elapsed_ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


async def close_pubsub(pubsub: PubSub) -> None:
    try:
        await pubsub.aclose()  # type: ignore[no-untyped-call]
    except Exception as error:  # a dead connection is closed already
        logger.debug("closing a redis subscription failed: %s", describe(error))
