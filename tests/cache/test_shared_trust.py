"""The shared cache trusts nothing it reads: two deployments sharing one real Redis never
serve each other's answers, and entries written into Redis by anyone else (forged,
malformed, from the future, oversized, unsigned) are misses."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import orjson
import pytest
from pydantic import SecretStr, ValidationError
from redis.asyncio import Redis

from app.cache.codec import EntryCodec
from app.cache.store import Entry
from app.settings import Settings
from harness.redis import RedisServer
from tests.conftest import ClientFactory

pytestmark = pytest.mark.prometheus

P95 = "/api/metrics/p95/"
QUESTION = {"time_range": "7m"}
SECRET = "a-long-random-secret-shared-by-the-fleet"


def deployment(prometheus, redis: RedisServer, prefix: str, **settings) -> Settings:
    return Settings(
        prometheus_url=prometheus.url,
        shared_cache_url=redis.url,
        shared_cache_prefix=prefix,
        cache_ttl_seconds=600,
        shared_cache_timeout_seconds=2,
        **settings,
    )


def models(response: httpx.Response) -> set[str]:
    return {item["model"] for item in response.json()["data"]}


async def test_two_deployments_sharing_one_redis_never_serve_each_others_answers(
    prometheus, redis_server: RedisServer, make_client: ClientFactory
):
    prefix = f"mla-{uuid.uuid4().hex[:8]}:"  # the default prefix, the same for every one
    a = deployment(prometheus, redis_server, prefix)
    b = deployment(prometheus, redis_server, prefix, label_selector='job="llm-gateway"')
    tenant = deployment(
        prometheus, redis_server, prefix, prometheus_headers={"X-Scope-OrgID": "tenant-B"}
    )
    answers = {}
    for name, settings in (("a", a), ("b", b), ("tenant", tenant), ("a again", a)):
        async with make_client(settings) as client:  # a fresh replica: nothing kept near
            answers[name] = await client.get(P95, params=QUESTION)
    assert [answers[n].headers["x-cache"] for n in ("a", "b", "tenant")] == ["MISS"] * 3
    assert answers["a again"].headers["x-cache"] == "HIT"  # the same deployment shares
    # The dataset's "other-job" model is outside job="llm-gateway".
    assert "other-job" in models(answers["a"])
    assert "other-job" not in models(answers["b"])


async def planted(
    raw_redis: Redis, prefix: str, data: bytes | None = None, entry: Entry | None = None
) -> str:
    """Overwrite the one stored entry under ``prefix`` with ``data`` (or ``entry``, written
    in the store's own layout without its secret, as an attacker who read the source
    would); the Redis key."""
    keys = [key async for key in raw_redis.scan_iter(match=f"{prefix}*entry:*")]
    assert len(keys) == 1, keys
    key = keys[0]
    if entry is not None:
        data = EntryCodec(secret=None).encode(key.decode(), entry)
    await raw_redis.set(key, data or b"", keepttl=True)
    return key.decode()


def forged_json(real: bytes) -> bytes:
    document = orjson.loads(real)
    for item in document["data"]:
        item["p95_latency_ms"] = 1.0
    return orjson.dumps(document)


def not_forged(served: httpx.Response) -> bool:
    return any(item["p95_latency_ms"] != 1.0 for item in served.json()["data"])


HTML = ((b"content-type", b"text/html"), (b"set-cookie", b"session=stolen"))
JSON = ((b"content-type", b"application/json"),)


def forgeries(real: bytes, now: float) -> dict[str, dict[str, Any]]:
    return {
        "html with a cookie": {"entry": Entry(b"<script>alert(1)</script>", HTML, now)},
        "fresh for ever": {"entry": Entry(forged_json(real), JSON, 1e15)},
        "CR/LF in a header": {
            "entry": Entry(forged_json(real), ((b"content-type", b"a\r\nx-evil: 1"),), now)
        },
        "set-cookie beside JSON": {
            "entry": Entry(forged_json(real), (*JSON, (b"set-cookie", b"a=b")), now)
        },
        "malformed": {"data": b"\x02" + bytes(100)},
        "oversized": {"entry": Entry(b'{"x":"' + b"x" * (8 << 20) + b'"}', JSON, now)},
    }


@pytest.mark.parametrize(
    "forgery",
    [
        "html with a cookie",
        "fresh for ever",
        "CR/LF in a header",
        "set-cookie beside JSON",
        "malformed",
        "oversized",
    ],
)
async def test_an_entry_forged_in_redis_is_a_miss(
    prometheus, redis_server: RedisServer, raw_redis: Redis, make_client: ClientFactory, forgery
):
    settings = deployment(prometheus, redis_server, f"forged-{uuid.uuid4().hex[:8]}:")
    async with make_client(settings) as client:
        real = await client.get(P95, params=QUESTION)
    forged = forgeries(real.content, time.time())[forgery]
    await planted(raw_redis, settings.shared_cache_prefix, **forged)
    async with make_client(settings) as client:  # another replica: it reads Redis
        served = await client.get(P95, params=QUESTION)
    assert served.status_code == 200
    assert served.headers["x-cache"] == "MISS"  # the forgery was not taken
    assert served.headers["content-type"] == "application/json"
    assert "set-cookie" not in served.headers
    assert "x-evil" not in served.headers
    assert models(served) == models(real)
    assert not_forged(served)


async def test_with_a_secret_a_well_formed_but_unsigned_entry_is_a_miss(
    prometheus, redis_server: RedisServer, raw_redis: Redis, make_client: ClientFactory
):
    settings = deployment(
        prometheus,
        redis_server,
        f"signed-{uuid.uuid4().hex[:8]}:",
        shared_cache_secret=SECRET,
    )
    async with make_client(settings) as client:
        real = await client.get(P95, params=QUESTION)
    async with make_client(settings) as client:
        shared = await client.get(P95, params=QUESTION)
    assert shared.headers["x-cache"] == "HIT"  # signed entries are shared
    stored_at = shared.json()["data"][0]["timestamp"]
    forged = Entry(forged_json(real.content), JSON, stored_at)
    await planted(raw_redis, settings.shared_cache_prefix, entry=forged)
    async with make_client(settings) as client:
        served = await client.get(P95, params=QUESTION)
    assert served.headers["x-cache"] == "MISS"
    assert models(served) == models(real)
    assert not_forged(served)


async def test_without_a_secret_start_up_warns_once(
    prometheus, redis_server: RedisServer, make_client: ClientFactory, caplog
):
    settings = deployment(prometheus, redis_server, f"warn-{uuid.uuid4().hex[:8]}:")
    async with make_client(settings):
        pass
    warned = [r.getMessage() for r in caplog.records if "SHARED_CACHE_SECRET" in r.getMessage()]
    assert len(warned) == 1
    caplog.clear()
    async with make_client(settings.model_copy(update={"shared_cache_secret": SecretStr(SECRET)})):
        pass
    assert not [r for r in caplog.records if "SHARED_CACHE_SECRET" in r.getMessage()]


@pytest.mark.parametrize("secret", ["", "   ", "short"])
def test_a_secret_too_short_to_sign_with_stops_start_up_without_being_shown(secret: str):
    with pytest.raises(ValidationError) as refused:
        Settings(shared_cache_secret=secret)
    (problem,) = refused.value.errors()
    assert problem["loc"] == ("shared_cache_secret",)
    assert "16 characters" in problem["msg"]
    assert secret.strip() == "" or secret not in problem["msg"]


async def test_redis_keeps_no_entry_over_the_per_key_share_of_cache_max_bytes(
    prometheus, redis_server: RedisServer, raw_redis: Redis, make_client: ClientFactory
):
    settings = deployment(
        prometheus, redis_server, f"bound-{uuid.uuid4().hex[:8]}:", cache_max_bytes=1 << 20
    )
    per_key = settings.cache_max_bytes // 16
    async with make_client(settings) as client:
        large = await client.get(P95 + "range/", params={"duration": "3h", "step": "15s"})
        small = await client.get(P95, params=QUESTION)
    assert large.status_code == small.status_code == 200
    assert len(large.content) > per_key > len(small.content)
    kept = [
        key async for key in raw_redis.scan_iter(match=f"{settings.shared_cache_prefix}*entry:*")
    ]
    assert len(kept) == 1
    assert b"time_range=7m" in kept[0]
    assert await raw_redis.strlen(kept[0]) <= per_key
