"""Where every error becomes the JSON error body; the only place that does.

A 400 always has one shape, however many parameters are bad and whichever check
found them (a query model's validator, or a dependency such as the allowed
Prometheus URLs):

    {"status": "error", "error": "Invalid parameters: metric_name, percentiles",
     "details": {"errors": [{"parameter": "percentiles", "message": "...", "value": "100"}]}}
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import Scope

from app.errors import InvalidParameter, ServiceError, UpstreamError
from app.params import ParameterProblem, echoed

log = logging.getLogger("app.errors")


def error_body(message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"status": "error", "error": message, "details": details or {}}


def _json(status: int, message: str, details: dict[str, Any] | None = None) -> JSONResponse:
    return JSONResponse(error_body(message, details), status_code=status)


def invalid_parameters(errors: list[dict[str, Any]]) -> JSONResponse:
    """The one 400: every bad parameter named, each with a message in words."""
    names = sorted({error["parameter"] for error in errors})
    noun = "parameters" if len(names) > 1 else "parameter"
    return _json(400, f"Invalid {noun}: {', '.join(names)}", {"errors": errors})


async def service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    if isinstance(exc, InvalidParameter):
        return invalid_parameters([exc.details])
    details = dict(exc.details)
    if isinstance(exc, UpstreamError):
        log.warning("upstream error on %s: %s %s", request.url.path, exc.message, details)
        if not request.app.state.settings.expose_upstream:
            details.pop("upstream", None)
    response = _json(exc.status_code, exc.message, details)
    if "retry_after" in details:
        response.headers["Retry-After"] = str(details["retry_after"])
    return response


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """Every failed check of the request's parameters, in the one 400 shape."""
    assert isinstance(exc, RequestValidationError)
    return invalid_parameters([_problem(error) for error in exc.errors()])


def _problem(error: dict[str, Any]) -> dict[str, Any]:
    """One pydantic error as ``{"parameter", "message", "value"}``."""
    cause = error.get("ctx", {}).get("error")
    location = [part for part in error.get("loc", ()) if isinstance(part, str)]
    if isinstance(cause, ParameterProblem):
        parameter = cause.parameter or (location[-1] if len(location) > 1 else "query")
        message = cause.message
    else:
        parameter = location[-1] if len(location) > 1 else "query"
        message = _words(error)
    problem: dict[str, Any] = {"parameter": parameter, "message": message}
    value = error.get("input")
    if isinstance(value, str | int | float):  # a whole-model check's input is a dict
        problem["value"] = echoed(value)
    return problem


def _words(error: dict[str, Any]) -> str:
    """Pydantic's own checks (a list given where one value is expected, and so on)."""
    if error.get("type") == "missing":
        return "is required"
    return str(error.get("msg", "is not allowed"))


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    message = "Not found" if exc.status_code == 404 else str(exc.detail)
    details = {"path": request.url.path[:200]} if exc.status_code == 404 else {}
    response = _json(exc.status_code, message, details)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s", request.url.path, exc_info=exc)
    return _json(500, "Internal error", {})


Handler = Callable[[Request, Exception], Awaitable[Response]]
# One handler per family of the error tree, plus the framework's own errors.
HANDLERS: dict[type[Exception], Handler] = {
    ServiceError: service_error,
    RequestValidationError: validation_error,
    StarletteHTTPException: http_error,
    Exception: unexpected_error,
}


def install(app: FastAPI) -> None:
    for family, handler in HANDLERS.items():
        app.add_exception_handler(family, handler)


async def translated(scope: Scope, exc: Exception) -> Response:
    """The answer to ``exc`` raised in the request ``scope``, by the handler FastAPI would
    choose (the nearest family in its class's order): for the cache layer, which calls
    the cacheable endpoints itself (app/cache/endpoints.py)."""
    handler = next(HANDLERS[family] for family in type(exc).__mro__ if family in HANDLERS)
    return await handler(Request(scope), exc)
