"""CORS, with a refused preflight answered in the service's one JSON error shape.

Starlette's ``CORSMiddleware`` refuses a preflight with a plain-text 400
(``Disallowed CORS origin``); here the same refusal, with the same CORS headers, is
``{"status": "error", "error": "...", "details": {"refused": ["origin"]}}``. The
security headers are added to it, as to every answer, by the outermost layer.
"""

from __future__ import annotations

from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response

from app.http.handlers import error_body

_REFUSAL_PREFIX = "Disallowed CORS "
_BODY_HEADERS = frozenset({"content-type", "content-length"})


class ServiceCORSMiddleware(CORSMiddleware):
    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        refused = bytes(response.body).decode().removeprefix(_REFUSAL_PREFIX).split(", ")
        kept = {k: v for k, v in response.headers.items() if k not in _BODY_HEADERS}
        body = error_body(
            f"CORS preflight refused: {', '.join(refused)} not allowed", {"refused": refused}
        )
        return JSONResponse(body, status_code=response.status_code, headers=kept)
