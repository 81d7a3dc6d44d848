"""The HTTP cache layer: the one place where cacheable requests are keyed and answered.

For a GET of a cacheable route (``routes``: route path -> its ``CachedRoute``, see
``app/cache/endpoints.py``) the key is the route path plus the parameters the endpoint
knows, normalised by its query model (``?_=1700000000`` and parameter order do not
split the cache; bad parameters are not cached and go on to FastAPI for their 400).
Then:

- a fresh entry in the near store is answered here: no FastAPI, no routing;
- otherwise the shared store is asked, and a miss is rendered once (single-flight, see
  ``app/cache/core.py``) by calling the route's endpoint here with the query model,
  no client attached (a HEAD is answered from the GET answer, its body dropped); what
  the endpoint raises becomes the error handlers' answer (``translate``); only a whole
  JSON 200 is kept (``app/cache/entries.py``);
- when rendering fails with an ``UpstreamError``, the last good answer is served
  marked ``"stale": true``.

Every answer given here is counted by ``record`` (route and status: what observes the
answer's seconds); the request-metrics layer inside never sees these requests.
Everything else goes on to ``app``.

    layer = HttpCache(inner, routes=cacheable_routes(...), record=..., translate=...)
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from urllib.parse import urlencode

from pydantic import BaseModel
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.cache.core import Header, Rendered, ResponseCache
from app.cache.endpoints import CachedRoute
from app.cache.memos import Hit, HitHeaders, KeyMemo
from app.cache.store import Entry
from app.errors import UpstreamError
from app.http.asgi import without_body
from app.http.paths import route_path
from app.schemas.cache_keys import canonical

Recorder = Callable[[str, int], Callable[[float], None]]
"""For a route path and status, what observes the seconds of each answer the layer gives
itself with them (found once per path for a hit: docs/performance.md)."""
InFlight = Callable[[str], AbstractContextManager[object]]
"""Held while a request of the route waits for the shared store or the upstream."""
Translate = Callable[[Scope, Exception], Awaitable[Response]]
"""The answer the error handlers give an exception an endpoint raised."""

ANSWERED_METHODS = frozenset({"GET", "HEAD"})
OWN_HEADERS = frozenset({b"cache-control", b"x-cache", b"age", b"vary", b"content-length"})


def cache_key(path: str, parsed: BaseModel) -> str:
    """The route path and the normalised known parameters of a parsed query."""
    return f"{path}?{urlencode(canonical(parsed))}"


def rendered(response: Response, error: Exception | None) -> Rendered:
    """A response as the cache keeps it; ``partial`` if the response says so."""
    partial = getattr(response, "partial", False) is True
    headers = tuple(response.raw_headers)
    return Rendered(response.status_code, headers, bytes(response.body), error, partial=partial)


def answer_headers(
    headers: tuple[Header, ...], status: bytes, max_age: int, age: int | None, vary: bytes | None
) -> list[Header]:
    """The stored headers, then this layer's: ``x-cache``, ``cache-control``, ``age``, ``vary``."""
    out = [(k, v) for k, v in headers if k.lower() not in OWN_HEADERS]
    control = b"max-age=%d" % max_age if max_age > 0 else b"no-store"
    out += [(b"x-cache", status), (b"cache-control", control)]
    if age is not None:
        out.append((b"age", b"%d" % age))
    if vary is not None:
        out.append((b"vary", vary))
    return out


async def send_body(send: Send, status: int, headers: list[Header], body: bytes) -> None:
    headers.append((b"content-length", b"%d" % len(body)))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class HttpCache:
    """Answer cacheable GETs from the response cache; pass everything else to ``app``.

    ``record`` counts every answer given here, ``in_flight`` tracks the requests that
    wait (hits are answered at once and not tracked). ``vary``: the ``Vary`` value every
    cacheable answer carries (``Origin`` when CORS is on, so a shared HTTP cache keeps
    one copy per origin). ``finish``: what the outermost layer does to every answer's
    headers, done here once a second to a hit's (when no layer in between changes them).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        routes: Mapping[str, CachedRoute],
        record: Recorder,
        translate: Translate,
        in_flight: InFlight = lambda path: nullcontext(),
        vary: bytes | None = None,
        memo_bytes: int = 1 << 20,
        finish: Callable[[list[Header]], list[Header]] = list,
    ) -> None:
        self.app = app
        self.finish = finish
        self.keys = KeyMemo(memo_bytes)
        self.hits = HitHeaders()
        self.routes = dict(routes)
        self.record = record
        self.translate = translate
        self._hit_seen: dict[str, Callable[[float], None]] = {}
        self.in_flight = in_flight
        self.vary = vary

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ANSWERED_METHODS:
            path = route_path(scope)
            route = self.routes.get(path)
            state = scope.get("state")
            if route is not None and state and "app" in state:
                cache: ResponseCache = state["app"].cache
                key, parsed = self._key(path, route, scope.get("query_string", b""))
                if key is not None:
                    if scope["method"] == "HEAD":  # as GET, without the body
                        send = without_body(send)
                    await self._answer(scope, receive, send, cache, key, route, parsed)
                    return
        await self.app(scope, receive, send)

    async def _answer(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        cache: ResponseCache,
        key: str,
        route: CachedRoute,
        parsed: BaseModel | None,
    ) -> None:
        """``parsed``: the query model, when making the key just parsed it."""
        started = time.perf_counter()
        now = cache.now()
        path = route.path
        hit = self.hits.get(key, now)
        if hit is None:
            entry = cache.hit(key, now)
            if entry is None:
                query = (
                    parsed if parsed is not None else route.parse(scope.get("query_string", b""))
                )
                if query is None:  # a safeguard: the checks that made the key do not change
                    await self.app(scope, receive, send)
                    return
                with self.in_flight(path):
                    counted = self._counting(send, path, started)
                    await self._slow_answer(
                        counted, cache, key, lambda: self._render(scope, route, query)
                    )
                return
            hit = self.hits.put(key, self._hit(cache, entry, now))
        # The hit fast path: headers memoised per second, counted before the body goes out
        # (so a client that asks /metrics next, on another worker, already sees it). A copy
        # of the same kind: what the layers outside do to it stays out of the memo.
        headers = type(hit.headers)(hit.headers)
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        cache.count_hit()
        seen = self._hit_seen.get(path)
        if seen is None:
            seen = self._hit_seen[path] = self.record(path, 200)
        seen(time.perf_counter() - started)
        await send({"type": "http.response.body", "body": hit.entry.body})

    def _hit(self, cache: ResponseCache, entry: Entry, now: float) -> Hit:
        # Seconds left in the TTL slot (rounded up, as a hit is still fresh) and the age.
        fresh_until = cache.fresh_until(entry.stored_at)
        max_age = math.ceil(fresh_until - now)
        age = int(max(0.0, now - entry.stored_at))
        headers = answer_headers(entry.headers, b"HIT", max_age, age, self.vary)
        headers.append((b"content-length", b"%d" % len(entry.body)))
        return Hit(entry, self.finish(headers), fresh_until)

    def _counting(self, send: Send, path: str, started: float) -> Send:
        """``send``, counting the answer just before its body goes out."""
        status = 200

        async def counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif not message.get("more_body"):
                self.record(path, status)(time.perf_counter() - started)
            await send(message)

        return counted

    def _key(
        self, path: str, route: CachedRoute, query: bytes
    ) -> tuple[str | None, BaseModel | None]:
        """The cache key of a raw query (None: a bad parameter), and the query model when
        it was parsed to make the key (a miss renders with it rather than parse again)."""
        known = self.keys.get(path, query)
        if known is not False:
            return (known if isinstance(known, str) else None), None
        parsed = route.parse(query)
        key = None if parsed is None else cache_key(path, parsed)
        self.keys.put(path, query, key)
        return key, parsed

    async def _slow_answer(
        self, send: Send, cache: ResponseCache, key: str, render: Callable[[], Awaitable[Rendered]]
    ) -> None:
        """A hit in the shared store, a rendered miss, or the stale answer for an error."""
        rendered, joined = await cache.load(key, render)
        if rendered.stored_at is not None:  # another replica's answer, from the shared store
            if not joined:  # (a request that joined was counted as coalesced)
                cache.count_hit()
            await self._send_fresh(
                send, cache, rendered.headers, rendered.body, rendered.stored_at, b"HIT"
            )
            return
        if isinstance(rendered.error, UpstreamError):
            stale = await cache.stale(key)
            if stale is not None and stale.stored_at is not None:
                age = int(max(0.0, cache.now() - stale.stored_at))
                headers = answer_headers(stale.headers, b"STALE", 0, age, self.vary)
                await send_body(send, 200, headers, stale.body)
                return
        if rendered.entry(cache.now()) is not None:  # (a MISS with its max-age)
            await self._send_fresh(
                send, cache, rendered.headers, rendered.body, cache.now(), b"MISS"
            )
            return
        headers = answer_headers(rendered.headers, b"MISS", 0, None, self.vary)
        await send_body(send, rendered.status, headers, rendered.body)

    async def _send_fresh(
        self,
        send: Send,
        cache: ResponseCache,
        stored: tuple[Header, ...],
        body: bytes,
        stored_at: float,
        status: bytes,
    ) -> None:
        now = cache.now()
        # Seconds left in the TTL slot, for a HIT and a MISS alike; rounded up.
        max_age = math.ceil(cache.fresh_until(stored_at) - now)
        age = int(max(0.0, now - stored_at)) if status == b"HIT" else None
        headers = answer_headers(stored, status, max_age, age, self.vary)
        await send_body(send, 200, headers, body)

    async def _render(self, scope: Scope, route: CachedRoute, query: BaseModel) -> Rendered:
        """The route's endpoint called with ``query`` and no client attached; what it
        raises, the error handlers' answer (app/cache/endpoints.py)."""
        try:
            response = await route.respond(scope, query)
        except Exception as error:  # (the same handlers as FastAPI's: app/http/handlers.py)
            answer = await self.translate(scope, error)
            # Kept without its traceback, whose frames hold what the failed call held
            # (up to UPSTREAM_MAX_BYTES of a refused answer) for as long as the error.
            return rendered(answer, error.with_traceback(None))
        return rendered(response, None)
