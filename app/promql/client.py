"""The Prometheus HTTP API client, for Prometheus and the engines that speak its API.

Every failure is mapped to the service's error tree by ``app/promql/failures.py``;
callers only ever see ``app.errors`` exceptions.

    client = PrometheusClient(http, "http://localhost:9090")
    samples = await client.query('up{job="api"}', at=1_700_000_000)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import quote, urlencode

import httpx

from app.breaker import CircuitBreaker
from app.errors import UpstreamBadResponse, UpstreamError, UpstreamOverloaded, UpstreamUnavailable
from app.offload import off_loop
from app.promql import decode, failures
from app.promql.body import read_body
from app.promql.upstream import (
    Keyed,
    QueryResult,
    R,
    Reduced,
    Reduction,
    Sample,
    Series,
)

P = TypeVar("P")
Reader = Callable[[int, bytes, str], tuple[P, list[str]]]
"""Reads an answer's status and body as the items it holds and its warnings
(app/promql/decode.py)."""
Observer = Callable[[str, float], None]
"""Called once per upstream call with its outcome and duration in seconds."""

# A query every engine answers at once: readiness of engines without ``/-/ready``.
READINESS_QUERY = "vector(1)"
NO_READY_ENDPOINT = frozenset({400, 404, 405})
BYTES_PER_POINT = 30  # about what one [timestamp, "value"] pair takes in an answer


def instant(promql: str, at: float) -> dict[str, str]:
    """The form of an instant query at unix time ``at``."""
    return {"query": promql, "time": f"{at:.3f}"}


class PrometheusClient:
    """Queries one Prometheus-compatible engine through a shared ``httpx.AsyncClient``.

    ``base_url`` may carry credentials (``http://user:pass@host``): httpx sends them as
    basic auth, and ``name`` (used in logs, metrics and answers) is the URL without them.
    ``ready_url``: what to GET for readiness instead of ``<base_url>/-/ready``.
    ``max_bytes``: the largest answer read, after decoding (``UPSTREAM_MAX_BYTES``); a
    content encoding is taken only if the request asked for it, and only gzip.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        *,
        name: str | None = None,
        ready_url: str | None = None,
        semaphore: asyncio.Semaphore | None = None,
        queue_timeout: float = 5.0,
        total_timeout: float = 30.0,
        breaker: CircuitBreaker | None = None,
        observer: Observer | None = None,
        max_bytes: int = 64 << 20,
    ) -> None:
        self._http = http
        self._max_bytes = max_bytes
        self.base_url = base_url.rstrip("/")
        self._name = name or self.base_url
        self._ready_url = ready_url
        self._semaphore = semaphore or asyncio.Semaphore(16)
        self._queue_timeout = queue_timeout
        self._total_timeout = total_timeout
        self._breaker = breaker
        self._observe = observer or (lambda outcome, seconds: None)

    @property
    def name(self) -> str:
        return self._name

    @property
    def breaker(self) -> CircuitBreaker | None:
        return self._breaker

    async def query(self, promql: str, *, at: float) -> QueryResult[Sample]:
        """Evaluate an instant query at unix time ``at``."""
        items, warnings = await self._call(
            "/api/v1/query", instant(promql, at), decode.vector, unchanged
        )
        return QueryResult(items, warnings)

    async def query_reduced(self, promql: str, *, at: float, reduce: Reduction[R]) -> Reduced[R]:
        """An instant query of which only ``reduce(samples)`` comes back (``Upstream``)."""
        form = instant(promql, at)
        if isinstance(reduce, Keyed):
            kept = decode.kept_vector(reduce.keys)
            value, warnings = await self._call("/api/v1/query", form, kept, reduce.reduce)
        else:
            value, warnings = await self._call("/api/v1/query", form, decode.vector, reduce)
        return Reduced(value, warnings)

    async def query_range(
        self, promql: str, *, start: float, end: float, step: float, lookback: float = 0.0
    ) -> QueryResult[Series]:
        """Evaluate a range query from ``start`` to ``end`` every ``step`` seconds."""
        form = {"query": promql, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"}
        items, warnings = await self._call("/api/v1/query_range", form, decode.matrix, unchanged)
        return QueryResult(items, warnings)

    async def label_values(
        self, label: str, *, match: str, start: float, end: float
    ) -> QueryResult[str]:
        """The values of ``label`` on series matching ``match`` (an index lookup, no samples)."""
        query = urlencode({"match[]": match, "start": f"{start:.3f}", "end": f"{end:.3f}"})
        url = f"{self.base_url}/api/v1/label/{quote(label, safe='')}/values?{query}"
        status, content = await self._send("GET", url, None)
        items, warnings = self._read(status, content, decode.strings, unchanged)
        return QueryResult(items, warnings)

    async def ready(self) -> None:
        """Raise an UpstreamError unless the engine is ready to serve queries.

        ``ready_url`` if configured; else ``/-/ready``, and for engines that have no such
        endpoint under their path prefix (Mimir, Cortex, VictoriaMetrics) a trivial query.
        """
        status = await self._status("GET", self._ready_url or self.base_url + "/-/ready")
        if status == 200:
            return
        if self._ready_url is None and status in NO_READY_ENDPOINT:
            await self.query(READINESS_QUERY, at=time.time())
            return
        raise UpstreamUnavailable(f"Prometheus is not ready (HTTP {status})", upstream=self.name)

    async def _call(
        self,
        path: str,
        form: dict[str, str],
        read: Reader[P],
        reduce: Callable[[P], R],
    ) -> tuple[R, list[str]]:
        """``reduce`` of the items ``read`` finds in the answer, and its warnings."""
        status, content = await self._send("POST", self.base_url + path, form)
        # A large answer is decoded and reduced in a worker thread (app/offload.py).
        size = len(content) // BYTES_PER_POINT
        return await off_loop(size, self._read, status, content, read, reduce)

    def _read(
        self, status: int, content: bytes, read: Reader[P], reduce: Callable[[P], R]
    ) -> tuple[R, list[str]]:
        items, warnings = read(status, content, self.name)
        return reduce(items), warnings

    async def _status(self, method: str, url: str) -> int:
        return (await self._send(method, url, None))[0]

    async def _send(self, method: str, url: str, form: dict[str, str] | None) -> tuple[int, bytes]:
        if self._breaker is not None and not self._breaker.allow():
            self._observe("overloaded", 0.0)
            raise self._circuit_open(self._breaker)
        try:  # (a timeout scope, not wait_for: no task of its own when a slot is free)
            async with asyncio.timeout(self._queue_timeout):
                await self._semaphore.acquire()
        except TimeoutError:
            self._record(ok=True)  # nothing was learnt about Prometheus; end any probe
            self._observe("overloaded", 0.0)
            raise UpstreamOverloaded(
                "Too many Prometheus queries in flight; try again shortly", upstream=self.name
            ) from None
        try:
            return await self._timed(method, url, form)
        finally:
            self._semaphore.release()

    async def _timed(self, method: str, url: str, form: dict[str, str] | None) -> tuple[int, bytes]:
        """One upstream call within the total timeout, told to the breaker and the observer:
        its status and its body (at most ``max_bytes``, app/promql/body.py)."""
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self._total_timeout):
                request = self._http.build_request(method, url, data=form)
                response = await self._http.send(request, stream=True)
                body = await read_body(response, limit=self._max_bytes, upstream=self.name)
        except (httpx.HTTPError, TimeoutError, UpstreamBadResponse) as exc:
            mapped = (
                exc if isinstance(exc, UpstreamError) else failures.from_transport(exc, self.name)
            )
            self._record(ok=False)
            self._observe(failures.outcome(mapped), time.perf_counter() - started)
            raise mapped from None
        self._record(ok=response.status_code < 500)
        outcome = "success" if response.status_code < 400 else "error"
        self._observe(outcome, time.perf_counter() - started)
        return response.status_code, body

    def _record(self, *, ok: bool) -> None:
        if self._breaker is None:
            return
        if ok:
            self._breaker.record_success()
        else:
            self._breaker.record_failure()

    def _circuit_open(self, breaker: CircuitBreaker) -> UpstreamOverloaded:
        wait = max(1, round(breaker.retry_after()))
        error = UpstreamOverloaded(
            f"Prometheus has been failing; the service stops asking it for {wait}s",
            upstream=self.name,
            reason="circuit open",
        )
        error.details["retry_after"] = wait
        return error


def unchanged(items: P) -> P:
    return items
