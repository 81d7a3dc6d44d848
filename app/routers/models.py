"""The model scorecard: ``GET /api/models/`` (now) and ``/api/models/range/`` (charts)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.deps import StateDep, encoded_answer, scorecard_for
from app.schemas.errors import UPSTREAM_RESPONSES
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
