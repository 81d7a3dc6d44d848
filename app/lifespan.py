"""The lifespan: opens the shared resources (HTTP client, shared cache, tracing) before
the first request, yields them as the typed ``LifespanState``, and closes them after
the last.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager

from fastapi import FastAPI

from app.builders import MEMO_SHARE, build_http_client, build_state
from app.cache.namespace import namespace_of, secret_of
from app.cache.shared import RedisStore
from app.cache.store import ResponseStore, Slots
from app.observability import ServiceMetrics
from app.observability.tracing import (
    trace_http_client,
)
from app.settings import Settings
from app.state import LifespanState

logger = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[LifespanState]:
    settings: Settings = app.state.settings
    observability: ServiceMetrics = app.state.observability
    async with AsyncExitStack() as stack:
        http = await stack.enter_async_context(
            build_http_client(settings, app.state.upstream_transport)
        )
        provider = app.state.tracer_provider
        if provider is not None:
            trace_http_client(http, provider)
            stack.callback(provider.shutdown)  # the last spans go out before exit
        shared = await stack.enter_async_context(open_shared_store(settings, observability))
        state = build_state(
            settings, http, observability, shared, app.state.profiles, traced=provider is not None
        )
        stack.enter_context(state.streams.closing_on_signals())
        stack.enter_context(startup_objects_frozen())
        yield LifespanState(app=state)


@contextmanager
def startup_objects_frozen() -> Iterator[None]:
    """Keep what exists once the service has started (modules, routes, schemas, settings)
    out of the cyclic garbage collector's full collections until shutdown.

    Those run every few requests that parse an answer, and each traversed every object of
    the process again: a third of a miss's CPU at 2,000 models (docs/performance.md).
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@asynccontextmanager
async def open_shared_store(
    settings: Settings, observability: ServiceMetrics
) -> AsyncIterator[ResponseStore | None]:
    """The Redis store replicas share when ``SHARED_CACHE_URL`` is set, else None."""
    if settings.shared_cache_url is None:
        yield None
        return
    secret = secret_of(settings)
    if secret is None:
        logger.warning(
            "SHARED_CACHE_SECRET is not set: entries read from the shared cache are "
            "checked but not authenticated, so whoever can write to it can plant answers"
        )
    store = RedisStore(
        settings.shared_cache_url.get_secret_value(),
        slots=Slots(settings.cache_ttl_seconds, settings.cache_stale_seconds),
        # A share of CACHE_MAX_BYTES per key: Redis grows by at most that per question
        # asked in a TTL slot and its stale period (docs/deploy.md#redis).
        max_entry_bytes=settings.cache_max_bytes // MEMO_SHARE,
        prefix=namespace_of(settings),
        op_timeout=settings.shared_cache_timeout_seconds,
        observer=observability.observe_shared_cache,
        secret=secret,
    )
    try:
        yield store
    finally:
        await store.close()
