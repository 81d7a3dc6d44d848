"""The Prometheus HTTP API client.

Every way a call can fail is mapped to the service's error tree in one place,
``PrometheusClient._call``; callers only ever see ``app.errors`` exceptions.

    client = PrometheusClient(http, "http://localhost:9090")
    samples = await client.query('up{job="api"}', at=1_700_000_000)
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import httpx

from app.errors import (
    UpstreamBadResponse,
    UpstreamError,
    UpstreamOverloaded,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from app.promql.breaker import CircuitBreaker

Labels = Mapping[str, str]
T = TypeVar("T")
Observer = Callable[[str, float], None]
"""Called once per upstream call with its outcome and duration in seconds."""


@dataclass(frozen=True, slots=True)
class Sample:
    labels: Labels
    timestamp: float
    value: float | None


@dataclass(frozen=True, slots=True)
class Series:
    labels: Labels
    points: list[tuple[float, float | None]]


@dataclass(frozen=True, slots=True)
class QueryResult(Generic[T]):
    items: list[T]
    warnings: list[str] = field(default_factory=list)


def to_number(text: object) -> float | None:
    """A Prometheus sample value as a float; NaN and infinities become None."""
    if not isinstance(text, (str, int, float)):  # a tuple: faster than a union, per sample
        raise UpstreamBadResponse("Prometheus sent a sample that is not a number", upstream="")
    try:
        value = float(text)
    except ValueError:
        raise UpstreamBadResponse(
            "Prometheus sent a sample that is not a number", upstream=""
        ) from None
    return value if math.isfinite(value) else None


def _labels(item: Mapping[str, Any]) -> dict[str, str]:
    metric = item.get("metric", {})
    if not isinstance(metric, dict):
        raise ValueError("metric is not an object")
    # Prometheus sends string values (and JSON keys are strings): keep its dict as it is;
    # copying every sample's labels was a third of parsing a bucket-rate answer.
    if all(type(value) is str for value in metric.values()):
        return metric
    return {str(key): str(value) for key, value in metric.items()}


def parse_vector(data: Mapping[str, Any]) -> list[Sample]:
    if data.get("resultType") != "vector":
        raise ValueError(f"expected a vector, got {data.get('resultType')!r}")
    samples = []
    for item in data["result"]:
        stamp, value = item["value"]
        samples.append(Sample(_labels(item), float(stamp), to_number(value)))
    return samples


def parse_matrix(data: Mapping[str, Any]) -> list[Series]:
    if data.get("resultType") != "matrix":
        raise ValueError(f"expected a matrix, got {data.get('resultType')!r}")
    return [
        Series(_labels(item), [(float(stamp), to_number(value)) for stamp, value in item["values"]])
        for item in data["result"]
    ]


class PrometheusClient:
    """Queries one Prometheus server through a shared ``httpx.AsyncClient``."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        *,
        semaphore: asyncio.Semaphore | None = None,
        queue_timeout: float = 5.0,
        total_timeout: float = 30.0,
        breaker: CircuitBreaker | None = None,
        observer: Observer | None = None,
    ) -> None:
        self._http = http
        self.base_url = base_url.rstrip("/")
        self._semaphore = semaphore or asyncio.Semaphore(16)
        self._queue_timeout = queue_timeout
        self._total_timeout = total_timeout
        self.breaker = breaker or CircuitBreaker()
        self._observe = observer or (lambda outcome, seconds: None)

    async def query(self, promql: str, *, at: float) -> QueryResult[Sample]:
        """Evaluate an instant query at unix time ``at``."""
        body = await self._call("/api/v1/query", {"query": promql, "time": f"{at:.3f}"})
        return QueryResult(self._parse(parse_vector, body), _warnings(body))

    async def query_range(
        self, promql: str, *, start: float, end: float, step: float
    ) -> QueryResult[Series]:
        """Evaluate a range query from ``start`` to ``end`` every ``step`` seconds."""
        form = {"query": promql, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"}
        body = await self._call("/api/v1/query_range", form)
        return QueryResult(self._parse(parse_matrix, body), _warnings(body))

    async def ready(self) -> None:
        """Raise an UpstreamError unless Prometheus says it is ready to serve queries."""
        response = await self._send("GET", "/-/ready", None)
        if response.status_code != 200:
            raise UpstreamUnavailable(
                f"Prometheus is not ready (HTTP {response.status_code})",
                upstream=self.base_url,
            )

    def _parse(self, parser: Callable[[Mapping[str, Any]], list[T]], body: Any) -> list[T]:
        try:
            return parser(body["data"])
        except UpstreamBadResponse as exc:
            raise UpstreamBadResponse(exc.message, upstream=self.base_url) from None
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise UpstreamBadResponse(
                "Prometheus sent a result of an unexpected shape",
                upstream=self.base_url,
                reason=str(exc)[:200],
            ) from None

    async def _call(self, path: str, form: dict[str, str]) -> Any:
        response = await self._send("POST", path, form)
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise UpstreamBadResponse(
                f"Prometheus answered HTTP {response.status_code} with a body that is not JSON",
                upstream=self.base_url,
            ) from None
        if not isinstance(body, dict) or body.get("status") != "success":
            raise _error_from_body(body, response.status_code, self.base_url)
        return body

    async def _send(self, method: str, path: str, form: dict[str, str] | None) -> httpx.Response:
        if not self.breaker.allow():
            self._observe("overloaded", 0.0)
            raise self._circuit_open()
        try:
            await asyncio.wait_for(self._semaphore.acquire(), self._queue_timeout)
        except TimeoutError:
            self.breaker.record_success()  # nothing was learnt about Prometheus; end any probe
            self._observe("overloaded", 0.0)
            raise UpstreamOverloaded(
                "Too many Prometheus queries in flight; try again shortly",
                upstream=self.base_url,
            ) from None
        try:
            return await self._timed(method, path, form)
        finally:
            self._semaphore.release()

    async def _timed(self, method: str, path: str, form: dict[str, str] | None) -> httpx.Response:
        """One upstream call within the total timeout, told to the breaker and the observer."""
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self._total_timeout):
                request = self._http.build_request(method, self.base_url + path, data=form)
                response = await self._http.send(request, stream=True)
                await _read_body(response, self.base_url)
        except (httpx.HTTPError, TimeoutError, UpstreamBadResponse) as exc:
            mapped = exc if isinstance(exc, UpstreamError) else _map_error(exc, self.base_url)
            self.breaker.record_failure()
            outcome = _outcome(mapped)
            self._observe(outcome, time.perf_counter() - started)
            raise mapped from None
        if response.status_code >= 500:
            self.breaker.record_failure()
        else:
            self.breaker.record_success()
        outcome = "success" if response.status_code < 400 else "error"
        self._observe(outcome, time.perf_counter() - started)
        return response

    def _circuit_open(self) -> UpstreamOverloaded:
        wait = max(1, round(self.breaker.retry_after()))
        error = UpstreamOverloaded(
            f"Prometheus has been failing; the service stops asking it for {wait}s",
            upstream=self.base_url,
            reason="circuit open",
        )
        error.details["retry_after"] = wait
        return error


def _outcome(error: UpstreamError) -> str:
    if isinstance(error, UpstreamTimeout):
        return "timeout"
    return "error" if isinstance(error, UpstreamBadResponse) else "unreachable"


def _warnings(body: Mapping[str, Any]) -> list[str]:
    warnings = body.get("warnings") or []
    return [str(item)[:500] for item in warnings] if isinstance(warnings, list) else []


async def _read_body(response: httpx.Response, upstream: str) -> None:
    """Read the whole body; one that ends early is a bad answer, not a network failure."""
    try:
        await response.aread()
    except (httpx.RemoteProtocolError, httpx.ReadError):
        raise UpstreamBadResponse(
            "Prometheus sent a truncated answer", upstream=upstream, reason="body ended early"
        ) from None
    finally:
        await response.aclose()


def _map_error(exc: httpx.HTTPError | TimeoutError, upstream: str) -> UpstreamError:
    if isinstance(exc, TimeoutError):
        return UpstreamTimeout("Prometheus did not answer in time", upstream=upstream)
    if isinstance(exc, httpx.ConnectTimeout | httpx.ConnectError):
        return UpstreamUnavailable(
            "Prometheus is unreachable", upstream=upstream, reason=type(exc).__name__
        )
    if isinstance(exc, httpx.PoolTimeout):
        return UpstreamOverloaded(
            "No free connection to Prometheus; try again shortly", upstream=upstream
        )
    if isinstance(exc, httpx.TimeoutException):
        return UpstreamTimeout("Prometheus did not answer in time", upstream=upstream)
    if isinstance(exc, httpx.DecodingError):
        return UpstreamBadResponse("Prometheus sent an undecodable body", upstream=upstream)
    return UpstreamUnavailable(
        "The connection to Prometheus failed", upstream=upstream, reason=type(exc).__name__
    )


def _error_from_body(body: Any, status_code: int, upstream: str) -> UpstreamError:
    if not isinstance(body, dict):
        return UpstreamBadResponse("Prometheus sent an unexpected JSON body", upstream=upstream)
    error_type = str(body.get("errorType", ""))[:100]
    reason = str(body.get("error", ""))[:500] or None
    if error_type == "timeout":
        return UpstreamTimeout("Prometheus timed out evaluating the query", upstream=upstream)
    if error_type == "unavailable":
        return UpstreamUnavailable("Prometheus is unavailable", upstream=upstream, reason=reason)
    message = f"Prometheus rejected the query ({error_type or f'HTTP {status_code}'})"
    return UpstreamBadResponse(message, upstream=upstream, reason=reason)
