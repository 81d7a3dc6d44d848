"""A reverse proxy that strips a path prefix, as an ingress does: ``/latency/x`` -> ``/x``.

Run with uvicorn (``tests.support.prefix_proxy:app``) and ``PROXY_TARGET`` and
``PROXY_PREFIX`` in the environment. GET and HEAD only; other paths answer 404.
"""

from __future__ import annotations

import os

import httpx
from starlette.requests import Request
from starlette.responses import Response

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-encoding", "host"}
TARGET = os.environ.get("PROXY_TARGET", "http://127.0.0.1:8000")
PREFIX = os.environ.get("PROXY_PREFIX", "/latency")


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    request = Request(scope, receive)
    path = request.url.path
    if not (path == PREFIX or path.startswith(PREFIX + "/")):
        await Response("not under the prefix", status_code=404)(scope, receive, send)
        return
    upstream = TARGET + (path[len(PREFIX) :] or "/")
    headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
    headers["x-forwarded-prefix"] = PREFIX
    async with httpx.AsyncClient(trust_env=False) as client:
        answer = await client.request(
            request.method, upstream, params=request.query_params, headers=headers
        )
    kept = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
    kept.pop("content-length", None)
    response = Response(answer.content, status_code=answer.status_code, headers=kept)
    await response(scope, receive, send)
