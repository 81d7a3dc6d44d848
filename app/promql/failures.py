"""Where every upstream failure becomes part of the error tree: the only place.

Transport errors (``from_transport``), Prometheus's ``status: "error"`` bodies and
bodies that are not the JSON the API promises (``from_answer``), and samples of the
wrong shape (``bad_answer``) map to ``app.errors``; callers never see httpx or JSON
exceptions. As ``httpx.Response.raise_for_status`` does for status codes, one function
decides for each kind of answer.

    body = decode_answer(status_code, content, upstream="http://prometheus:9090")
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from app.errors import (
    UpstreamBadResponse,
    UpstreamError,
    UpstreamOverloaded,
    UpstreamTimeout,
    UpstreamUnavailable,
)


def from_transport(exc: httpx.HTTPError | TimeoutError, upstream: str) -> UpstreamError:
    """A failure to get an answer at all."""
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
        return undecodable(upstream)
    return UpstreamUnavailable(
        "The connection to Prometheus failed", upstream=upstream, reason=type(exc).__name__
    )


def truncated(upstream: str) -> UpstreamBadResponse:
    """An answer whose body ended early: a bad answer, not a network failure."""
    return UpstreamBadResponse(
        "Prometheus sent a truncated answer", upstream=upstream, reason="body ended early"
    )


def too_large(upstream: str, limit: int) -> UpstreamBadResponse:
    """An answer larger than the service keeps (``UPSTREAM_MAX_BYTES``)."""
    return UpstreamBadResponse(
        f"Prometheus sent an answer larger than UPSTREAM_MAX_BYTES ({limit} bytes)",
        upstream=upstream,
        reason="answer too large",
    )


def unasked_encoding(upstream: str) -> UpstreamBadResponse:
    """A body encoded (compressed) in a way the service did not ask for."""
    return UpstreamBadResponse(
        "Prometheus sent an answer in a content encoding the service did not ask for",
        upstream=upstream,
        reason="unexpected Content-Encoding",
    )


def undecodable(upstream: str) -> UpstreamBadResponse:
    return UpstreamBadResponse("Prometheus sent an undecodable body", upstream=upstream)


def decode_answer(status_code: int, content: bytes, *, upstream: str) -> dict[str, Any]:
    """The JSON body of a successful API answer; the mapped error for anything else."""
    try:
        body = orjson.loads(content)
    except (orjson.JSONDecodeError, RecursionError):
        raise UpstreamBadResponse(
            f"Prometheus answered HTTP {status_code} with a body that is not JSON",
            upstream=upstream,
        ) from None
    if not isinstance(body, dict) or body.get("status") != "success":
        raise from_answer(body, status_code, upstream)
    return body


def from_answer(body: Any, status_code: int, upstream: str) -> UpstreamError:
    """An answer that says the query failed."""
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


def bad_answer(upstream: str, reason: object) -> UpstreamBadResponse:
    """A successful answer whose data is not of the shape the API promises."""
    return UpstreamBadResponse(
        "Prometheus sent a result of an unexpected shape",
        upstream=upstream,
        reason=str(reason)[:200],
    )


def outcome(error: UpstreamError) -> str:
    """The label the upstream-call metric counts ``error`` under."""
    if isinstance(error, UpstreamTimeout):
        return "timeout"
    if isinstance(error, UpstreamOverloaded):
        return "overloaded"
    return "error" if isinstance(error, UpstreamBadResponse) else "unreachable"
