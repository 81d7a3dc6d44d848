"""The reference peers: the same response bytes from memory, with no work behind them.

``uvicorn bench.floors:fastapi_app`` is the framework floor (one FastAPI route that
returns the bytes); ``uvicorn bench.floors:raw_app`` is the server floor (a bare ASGI
callable). Both read the bytes from the file named by ``BENCH_BODY_FILE``.

``uvicorn bench.floors:proxy_app`` is the framework floor of a miss: one FastAPI route
that sends the engine at ``BENCH_PROMETHEUS_URL`` the query it is given and returns the
engine's bytes, through httpx as the service does (``Accept-Encoding: identity``, the
service's default), with nothing else: no cache, no validation, no reduction.
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx
from fastapi import FastAPI, Response
from starlette.types import Receive, Scope, Send

BODY = Path(os.environ.get("BENCH_BODY_FILE", "/dev/null")).read_bytes()
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]

fastapi_app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@fastapi_app.get("/api/metrics/p95/")
async def p95() -> Response:
    return Response(BODY, media_type="application/json")


async def raw_app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


proxy_app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
ENGINE = os.environ.get("BENCH_PROMETHEUS_URL", "")
_engine: list[httpx.AsyncClient] = []  # made on the first request, in the server's loop


@proxy_app.get("/ready")
async def ready() -> Response:
    return Response(b"ok")


@proxy_app.get("/api/v1/query")
async def proxied(query: str, time: str) -> Response:
    if not _engine:
        _engine.append(httpx.AsyncClient(timeout=300, headers={"Accept-Encoding": "identity"}))
    answer = await _engine[0].get(f"{ENGINE}/api/v1/query", params={"query": query, "time": time})
    return Response(answer.content, answer.status_code, media_type="application/json")
