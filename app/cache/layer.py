"""The HTTP cache layer: the one place where cacheable requests are keyed and answered.

For a GET of a cacheable route (``routes``: route path -> the endpoint's query model)
the key is the route path plus the parameters the endpoint knows, normalised by its
query model (``?_=1700000000`` and parameter order do not split the cache; bad
parameters are not cached and go on to FastAPI for their 400). Then:

- a fresh entry in the near store is answered here: no FastAPI, no routing;
- otherwise the shared store is asked, and a miss is rendered once (single-flight, see
  ``app/cache/core.py``) by running ``app`` with no client attached, always as a GET
  (a HEAD is answered from the GET answer, its body dropped); only a whole JSON 200 is
  kept (``app/cache/entries.py``);
- when rendering fails with an ``UpstreamError`` (the error handler notes the exception
  in the scope), the last good answer is served marked ``"stale": true``.

Every answer given here is counted by ``record`` (route and status: what observes the
answer's seconds), since the request-metrics layer inside sees only the render.
Everything else goes on to ``app``.

    layer = HttpCache(inner, routes={"/api/metrics/p95/": InstantQuery}, record=...)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from urllib.parse import parse_qsl, urlencode

from pydantic import BaseModel, ValidationError
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.cache.core import Header, Rendered, ResponseCache
from app.cache.memos import Hit, HitHeaders, KeyMemo
from app.cache.store import Entry
from app.errors import UpstreamError
from app.http.asgi import ERRORS_SLOT, PARTIAL_SLOT, RENDER_SLOT, capture, without_body
from app.http.paths import flat_routes, route_path
from app.schemas.cache_keys import canonical, query_input

Recorder = Callable[[str, int], Callable[[float], None]]
"""For a route path and status, what observes the seconds of each answer the layer gives
itself with them (found once per path for a hit: docs/performance.md)."""
InFlight = Callable[[str], AbstractContextManager[object]]
"""Held while a request of the route waits for the shared store or the upstream."""

ANSWERED_METHODS = frozenset({"GET", "HEAD"})
OWN_HEADERS = frozenset({b"cache-control", b"x-cache", b"age", b"vary", b"content-length"})


def query_models(routes: Sequence[BaseRoute], base: type[BaseModel]) -> dict[str, type[BaseModel]]:
    """Route path -> query model, for every GET route whose endpoint takes a ``base`` model."""
    found: dict[str, type[BaseModel]] = {}
    for route in flat_routes(routes):
        dependant = getattr(route, "dependant", None)
        if dependant is None or "GET" not in (getattr(route, "methods", None) or ()):
            continue
        for param in dependant.query_params:
            model = param.field_info.annotation
            cacheable = isinstance(model, type) and issubclass(model, base)
            if cacheable and getattr(model, "cacheable", True):
                found[route.path] = model
    return found


def cache_key(path: str, model: type[BaseModel], query: bytes) -> str | None:
    """The route path and the normalised known parameters; None if a parameter is bad."""
    # As Starlette parses it: escapes decoded as UTF-8, invalid bytes replaced.
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    try:
        parsed = model.model_validate(query_input(model, pairs))
    except ValidationError:
        return None
    return f"{path}?{urlencode(canonical(parsed))}"


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
        routes: Mapping[str, type[BaseModel]],
        record: Recorder,
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
        self._hit_seen: dict[str, Callable[[float], None]] = {}
        self.in_flight = in_flight
        self.vary = vary

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ANSWERED_METHODS:
            path = route_path(scope)
            model = self.routes.get(path)
            state = scope.get("state")
            if model is not None and state and "app" in state:
                cache: ResponseCache = state["app"].cache
                key = self._key(path, model, scope.get("query_string", b""))
                if key is not None:
                    if scope["method"] == "HEAD":  # as GET, without the body
                        send = without_body(send)
                    await self._answer(scope, send, cache, key, path)
                    return
        await self.app(scope, receive, send)

    async def _answer(
        self, scope: Scope, send: Send, cache: ResponseCache, key: str, path: str
    ) -> None:
        started = time.perf_counter()
        now = cache.now()
        hit = self.hits.get(key, now)
        if hit is None:
            entry = cache.hit(key, now)
            if entry is None:
                with self.in_flight(path):
                    await self._slow_answer(scope, self._counting(send, path, started), cache, key)
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

    def _key(self, path: str, model: type[BaseModel], query: bytes) -> str | None:
        key = self.keys.get(path, query)
        if key is False:
            key = cache_key(path, model, query)
            self.keys.put(path, query, key)
        return key if isinstance(key, str) else None

    async def _slow_answer(self, scope: Scope, send: Send, cache: ResponseCache, key: str) -> None:
        """A hit in the shared store, a rendered miss, or the stale answer for an error."""
        rendered, joined = await cache.load(key, lambda: self._render(scope))
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

    async def _render(self, scope: Scope) -> Rendered:
        """Run ``app`` for ``scope`` with no client attached and keep what it sends."""
        errors: list[Exception] = []
        partial: list[bool] = []
        # Always a GET, whatever the client sent: the answer is kept for everyone, and a
        # HEAD's is derived from it (the caller's ``send`` drops the body).
        inner = {
            **scope,
            "method": "GET",
            ERRORS_SLOT: errors,
            PARTIAL_SLOT: partial,
            RENDER_SLOT: True,
        }
        answer = await capture(self.app, inner)
        error = errors[-1] if errors else None
        return Rendered(answer.status, answer.headers, answer.body, error, partial=any(partial))
