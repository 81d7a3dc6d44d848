"""The service's one error tree.

Everything that can go wrong in a request is one of these; a single exception
handler per family (``app/http/handlers.py``) turns it into the JSON error body
``{"status": "error", "error": "...", "details": {...}}``.

    ServiceError
     ├── InvalidParameter        400  a query parameter is malformed or out of bounds
     ├── TooManyStreams          503  a live-stream limit (STREAM_MAX_*) is reached
     └── UpstreamError           502  Prometheus did not give a usable answer
          ├── UpstreamUnavailable 503  connection refused, reset, DNS failure
          ├── UpstreamTimeout     504  no answer within the configured timeout
          ├── UpstreamBadResponse 502  Prometheus error, non-JSON, truncated or odd body
          └── UpstreamOverloaded  503  too many queries in flight, or circuit open

Bad query parameters are mostly found by the endpoints' query models
(``app/schemas/queries.py``) and reported by the same handler in the same 400 shape.
Errors carry their context as keyword-only arguments and never hold secrets: an
upstream is named without credentials, and only when ``EXPOSE_UPSTREAM`` is on.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """Base of every error the service reports to a client."""

    status_code = 500

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details or {}


class InvalidParameter(ServiceError):
    """A query parameter is malformed or out of bounds."""

    status_code = 400

    def __init__(self, message: str, *, parameter: str, value: object = None) -> None:
        details: dict[str, Any] = {"parameter": parameter, "message": message}
        if value is not None:
            details["value"] = value
        super().__init__(f"Invalid parameter '{parameter}': {message}", details=details)
        self.parameter = parameter


class TooManyStreams(ServiceError):
    """A live-stream limit is reached; the client should retry later or poll.

    ``setting`` names the limit: ``STREAM_MAX_CLIENTS`` (streams in all),
    ``STREAM_MAX_PER_CLIENT`` (from one client address) or ``STREAM_MAX_KEYS`` (distinct
    questions followed at once).
    """

    status_code = 503

    def __init__(
        self, limit: int, *, retry_after: int, setting: str = "STREAM_MAX_CLIENTS"
    ) -> None:
        what = _STREAM_LIMITS.get(setting, "live streams are open")
        super().__init__(
            f"{limit} {what}, the most this server allows ({setting}); "
            "retry later or poll /api/metrics/percentiles/",
            details={"limit": limit, "retry_after": retry_after},
        )


_STREAM_LIMITS = {
    "STREAM_MAX_PER_CLIENT": "live streams are open from this client address",
    "STREAM_MAX_KEYS": "distinct stream questions are followed",
}


class UpstreamError(ServiceError):
    """Prometheus did not give a usable answer."""

    status_code = 502

    def __init__(self, message: str, *, upstream: str, reason: str | None = None) -> None:
        details: dict[str, Any] = {"upstream": upstream}
        if reason:
            details["reason"] = reason
        super().__init__(message, details=details)
        self.upstream = upstream


class UpstreamUnavailable(UpstreamError):
    """Prometheus could not be reached."""

    status_code = 503


class UpstreamTimeout(UpstreamError):
    """Prometheus did not answer within the configured timeout."""

    status_code = 504


class UpstreamBadResponse(UpstreamError):
    """Prometheus answered with an error or a body the service cannot use."""

    status_code = 502


class UpstreamOverloaded(UpstreamError):
    """The service refuses to add load to a struggling or saturated Prometheus."""

    status_code = 503
