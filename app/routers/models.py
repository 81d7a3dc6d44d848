"""The model scorecard: ``GET /api/models/`` (now) and ``/api/models/range/`` (charts)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from app.deps import ModelsStreamQ, StateDep, encoded_answer, scorecard_for
from app.http.event_stream import EventStream
from app.routers.stream import live
from app.schemas.errors import BAD_REQUEST, UNAVAILABLE, UPSTREAM_RESPONSES
from app.schemas.model_queries import ModelsQuery, ModelsRangeQuery
from app.schemas.models import ModelsRangeResponse, ModelsResponse
from app.services import model_series, models

router = APIRouter(prefix="/api/models", tags=["models"], responses=UPSTREAM_RESPONSES)


@router.get(
    "/",
    summary="Latency, TTFT, inter-token latency, queue time, rates and success of every model",
    response_model=ModelsResponse,
)
async def table(state: StateDep, query: Annotated[ModelsQuery, Query()]) -> Response:
    """One row per model and source (the exporter profile that answered), from the
    metrics vLLM, SGLang, TGI, LiteLLM, Triton and OpenTelemetry export (docs/profiles.md).

    `curl 'http://localhost:8000/api/models/?window=5m&percentiles=50,95,99'`
    """
    return encoded_answer(await models.model_table(scorecard_for(state, query), query))


@router.get(
    "/range/",
    summary="The scorecard's signals over time, one series per model, source and signal",
    response_model=ModelsRangeResponse,
)
async def series(state: StateDep, query: Annotated[ModelsRangeQuery, Query()]) -> Response:
    """For charts: `signals` such as `latency_p95,ttft_p95,output_tokens_per_second`, `step`
    apart over `duration` up to `end`; through the range delta cache.

    `curl 'http://localhost:8000/api/models/range/?duration=6h&step=5m&signals=latency_p95'`
    """
    return encoded_answer(await model_series.model_series(scorecard_for(state, query), query))


STREAM_EXAMPLE = (
    "retry: 15000\n\n"
    'event: models\nid: 1700000000.000\ndata: {"status":"success","data":[{"model":'
    '"llama-3-8b","source":"vllm","status":"good",...}],...}\n\n'
    ": keep-alive\n\n"
)
STREAM_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {
        "description": "`text/event-stream`: every `interval` seconds an `event: models` whose "
        "`data:` is the `/api/models/` answer (one line of JSON); `event: error` with the "
        "error JSON when there is none (the stream goes on); `: keep-alive` in between.",
        "content": {"text/event-stream": {"example": STREAM_EXAMPLE}},
    },
    400: BAD_REQUEST,
    503: UNAVAILABLE,
}


@router.get(
    "/stream/",
    summary="The scorecard, live (Server-Sent Events)",
    # For the OpenAPI page (its 400 and 503 stay JSON); the route returns an EventStream.
    response_class=StreamingResponse,
    responses=STREAM_RESPONSES,
)
async def stream(request: Request, state: StateDep, query: ModelsStreamQ) -> EventStream:
    """The `/api/models/` answer pushed every `interval` seconds; every subscriber with
    the same parameters shares one evaluation per interval (the response cache).

    `curl -N 'http://localhost:8000/api/models/stream/?interval=15'`
    """
    return live(request, state, query.asked(), query.interval, path="/api/models/", name="models")
