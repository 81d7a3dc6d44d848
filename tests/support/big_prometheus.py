"""A stand-in Prometheus whose range answers are as large as the API allows.

Run with uvicorn (``tests.support.big_prometheus:app``); ``BIG_MODELS`` series per range
answer, one point per step. Instant queries answer an empty vector.
"""

from __future__ import annotations

import os
from urllib.parse import parse_qs

import orjson
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

MODELS = int(os.environ.get("BIG_MODELS", "65"))


def matrix(start: float, end: float, step: float) -> bytes:
    count = int((end - start) // step) + 1
    stamps = [start + i * step for i in range(count)]
    result = [
        {"metric": {"model": f"model-{m:03d}"}, "values": [[t, f"0.{m + 100}"] for t in stamps]}
        for m in range(MODELS)
    ]
    return orjson.dumps({"status": "success", "data": {"resultType": "matrix", "result": result}})


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    request = Request(scope, receive)
    form = {k: v[-1] for k, v in parse_qs((await request.body()).decode()).items()}
    if request.url.path == "/api/v1/query_range":
        start, end, step = (float(form[k]) for k in ("start", "end", "step"))
        response = Response(matrix(start, end, step), media_type="application/json")
    elif request.url.path == "/api/v1/query":
        empty = {"status": "success", "data": {"resultType": "vector", "result": []}}
        response = Response(orjson.dumps(empty), media_type="application/json")
    else:
        response = PlainTextResponse("Prometheus Server is Ready.\n")
    await response(scope, receive, send)
