"""Where every error becomes the JSON error body; the only place that does.

A 400 always has one shape, however many parameters are bad and whichever check
found them (a query model's validator, or a dependency such as the allowed
Prometheus URLs):

    {"status": "error", "error": "Invalid parameters: metric_name, percentiles",
     "details": {"errors": [{"parameter": "percentiles", "message": "...", "value": "100"}]}}
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import InvalidParameter, ServiceError, UpstreamError
from app.http.asgi import ERRORS_SLOT
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
    noted = request.scope.get(ERRORS_SLOT)
    if isinstance(noted, list):
        noted.append(exc)  # the cache layer serves a stale answer on upstream errors
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


def install(app: FastAPI) -> None:
    """One handler per family of the error tree, plus the framework's own errors."""
    app.add_exception_handler(ServiceError, service_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected_error)
