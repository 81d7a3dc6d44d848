"""GET /api/metrics/stream/: the percentiles of every model, pushed as Server-Sent Events."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from app.deps import StateDep, StreamQ
from app.errors import InvalidParameter
from app.http.event_stream import EventStream
from app.http.stream import PERCENTILES_PATH, fetch
from app.schemas.cache_keys import canonical
from app.schemas.errors import BAD_REQUEST, UNAVAILABLE
from app.state import AppState

router = APIRouter(prefix="/api/metrics", tags=["metrics"])

EXAMPLE = (
    "retry: 15000\n\n"
    "event: percentiles\nid: 1700000000.000\n"
    'data: {"status":"success","count":1,"data":[{"model":"gpt-4","percentiles":'
    '{"p50":120.45,"p95":245.67,"p99":null},"timestamp":1700000000.0}],...}\n\n'
    ": keep-alive\n\n"
    'event: error\ndata: {"status":"error","error":"Prometheus is unreachable",...}\n\n'
)
EVENT_SCHEMA = {
    "type": "object",
    "description": "One event of the stream.",
    "properties": {
        "event": {"type": "string", "enum": ["percentiles", "error"]},
        "id": {"type": "string", "description": "Evaluation time, unix seconds."},
        "data": {
            "type": "string",
            "description": "One line of JSON: the /api/metrics/percentiles/ answer, or the "
            "error body.",
        },
        "retry": {"type": "integer", "description": "Milliseconds before reconnecting."},
    },
}
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "`text/event-stream`: a `retry:` hint, then every `interval` seconds "
        "an `event: percentiles` whose `data:` is the `/api/metrics/percentiles/` answer "
        "(one line of JSON, `stale: true` when Prometheus failed and the last good answer "
        "stands in) with its evaluation time as `id:`; `event: error` with the error JSON "
        "when there is no answer (the stream goes on); `: keep-alive` comments in between.",
        "content": {"text/event-stream": {"schema": EVENT_SCHEMA, "example": EXAMPLE}},
    },
    400: BAD_REQUEST,
    503: UNAVAILABLE,
}


@router.get(
    "/stream/",
    summary="Live percentiles of every model (Server-Sent Events)",
    # For the OpenAPI page (its 400 and 503 stay JSON); the route returns an EventStream.
    response_class=StreamingResponse,
    responses=RESPONSES,
)
async def stream(request: Request, state: StateDep, query: StreamQ) -> EventStream:
    """Subscribe instead of polling: every browser with the same parameters shares one
    upstream evaluation per interval (one polling loop per distinct question, through the
    response cache, across replicas too).

    `curl -N 'http://localhost:8000/api/metrics/stream/?percentiles=50,95,99&interval=15'`
    """
    asked = urlencode(canonical(query.percentiles_query())).encode()
    return live(request, state, asked, query.interval, path=PERCENTILES_PATH, name="percentiles")


def live(
    request: Request, state: AppState, asked: bytes, every: str | None, *, path: str, name: str
) -> EventStream:
    """Every ``interval`` seconds the service's own answer to ``GET <path>?<asked>`` (through
    the response cache), as ``event: <name>``: one polling loop per distinct question,
    within the hub's limits."""
    settings = state.settings
    ttl = settings.cache_ttl_seconds
    interval = float(every) if every is not None else max(ttl, 1.0)
    if interval < ttl:
        raise InvalidParameter(
            f"must be at least CACHE_TTL_SECONDS ({ttl:g}), such as {math.ceil(ttl):d}",
            parameter="interval",
            value=every,
        )
    front, scope = request.app.front, request.scope
    client = request.client.host if request.client else ""
    ticket = state.streams.reserve(
        (path, asked, interval),
        client,
        lambda: fetch(front, scope, asked, path),
        interval=interval,
        retry_after=math.ceil(interval),
        name=name,
    )
    return EventStream(
        ticket,
        heartbeat=settings.stream_heartbeat_seconds,
        retry_ms=int(interval * 1000),
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
