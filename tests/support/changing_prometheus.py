"""A stand-in Prometheus whose answers change every second, for live-update tests.

Run with uvicorn (``tests.support.changing_prometheus:app``). Bucket rates for two
models grow with the clock, so every second's p95 differs from the last.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse

MODELS = ("gpt-4", "llama-3")
BOUNDS = ("0.1", "0.5", "1", "2.5", "+Inf")


def _rates(at: float) -> list[tuple[str, str, float]]:
    tick = int(at) % 7 + 1  # changes every second: the first bucket holds more or less
    last = len(BOUNDS) - 1
    return [
        (model, le, float(tick * (j + 1) + 2 * min(i, last - 1)))
        for j, model in enumerate(MODELS)
        for i, le in enumerate(BOUNDS)
    ]


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    request = Request(scope, receive)
    form = {k: v[-1] for k, v in parse_qs((await request.body()).decode()).items()}
    if request.url.path == "/-/ready":
        response = PlainTextResponse("Prometheus Server is Ready.\n")
    elif request.url.path == "/api/v1/query":
        at = float(form.get("time", time.time()))
        result = [
            {"metric": {"model": m, "le": le}, "value": [at, f"{v:g}"]} for m, le, v in _rates(at)
        ]
        if "histogram_kind" in form.get("query", ""):
            result = []
        response = JSONResponse(
            {"status": "success", "data": {"resultType": "vector", "result": result}}
        )
    elif request.url.path == "/api/v1/query_range":
        start, end, step = (float(form[k]) for k in ("start", "end", "step"))
        stamps = [start + i * step for i in range(int((end - start) // step) + 1)]
        result = [
            {
                "metric": {"model": m},
                "values": [[t, f"{0.2 + j / 10 + (int(t) % 5) / 100}"] for t in stamps],
            }
            for j, m in enumerate(MODELS)
        ]
        response = JSONResponse(
            {"status": "success", "data": {"resultType": "matrix", "result": result}}
        )
    elif request.url.path == "/api/v1/label/__name__/values":  # the scorecard's name lookup
        names = ["request_duration_seconds_bucket", "request_duration_seconds_count"]
        response = JSONResponse({"status": "success", "data": names})
    else:
        response = PlainTextResponse("404 page not found\n", status_code=404)
    await response(scope, receive, send)
