"""Where every error becomes the JSON error body; the only place that does."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import ServiceError, UpstreamError

log = logging.getLogger("app.errors")


def error_body(message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"status": "error", "error": message, "details": details or {}}


def _json(status: int, message: str, details: dict[str, Any] | None = None) -> JSONResponse:
    return JSONResponse(error_body(message, details), status_code=status)


async def service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    if isinstance(exc, UpstreamError):
        log.warning("upstream error on %s: %s %s", request.url.path, exc.message, exc.details)
    response = _json(exc.status_code, exc.message, exc.details)
    if "retry_after" in exc.details:
        response.headers["Retry-After"] = str(exc.details["retry_after"])
    return response


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422 becomes our 400, naming each parameter."""
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"parameter": str(e["loc"][-1]), "message": e["msg"], "location": str(e["loc"][0])}
        for e in exc.errors()
    ]
    names = ", ".join(sorted({e["parameter"] for e in errors}))
    return _json(400, f"Invalid parameters: {names}", {"errors": errors})


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
