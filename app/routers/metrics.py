"""The /api/metrics endpoints, with the shapes the earlier APIs' frontends expect.

Each takes one query model (the HTTP cache layer keys each route's answers with it) and
answers bytes its service encoded; ``response_model`` documents the shape.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.deps import (
    SLOQ,
    DistributionQ,
    DistributionRangeQ,
    HistoryQ,
    InstantQ,
    PercentilesQ,
    RangeQ,
    StateDep,
    encoded_answer,
    source_for,
)
from app.schemas.distribution import DistributionRangeResponse, DistributionResponse
from app.schemas.errors import UPSTREAM_RESPONSES
from app.schemas.metrics import (
    HistoryResponse,
    P95Response,
    PercentilesResponse,
    RangeResponse,
    SummaryResponse,
)
from app.schemas.slo import SLOResponse
from app.services import distribution, latency, p95_series, slo

router = APIRouter(prefix="/api/metrics", tags=["metrics"], responses=UPSTREAM_RESPONSES)


@router.get("/", summary="P50, P95 and P99 of every model now", response_model=SummaryResponse)
async def summary(state: StateDep, query: InstantQ) -> Response:
    """The collector API's summary: one row per model with three percentiles.

    `curl 'http://localhost:8000/api/metrics/?time_range=10m'`
    """
    return encoded_answer(await latency.current_summary(source_for(state, query), query))


@router.get("/p95/", summary="P95 latency of every model now", response_model=P95Response)
async def p95(state: StateDep, query: InstantQ) -> Response:
    """The P95 of each model over the last `time_range`, in milliseconds, sorted by model.

    `curl 'http://localhost:8000/api/metrics/p95/?time_range=10m&model=gpt-4'`
    """
    return encoded_answer(await latency.current_p95(source_for(state, query), query))


@router.get(
    "/p95/range/", summary="P95 latency of every model over time", response_model=RangeResponse
)
async def p95_range(state: StateDep, query: RangeQ) -> Response:
    """One series of points per model, `step` apart, over `duration` (or `start`..`end`).

    `curl 'http://localhost:8000/api/metrics/p95/range/?duration=24h&step=5m'`
    """
    return encoded_answer(await p95_series.p95_range(source_for(state, query), query))


@router.get(
    "/percentiles/",
    summary="Several percentiles of every model now",
    response_model=PercentilesResponse,
)
async def percentiles(state: StateDep, query: PercentilesQ) -> Response:
    """Any percentiles strictly between 0 and 100, keyed `p50`, `p95`, `p99.9`.

    `curl 'http://localhost:8000/api/metrics/percentiles/?percentiles=50,90,99.9'`
    """
    return encoded_answer(await latency.current_percentiles(source_for(state, query), query))


@router.get(
    "/history/", summary="P95 history of every model, for charts", response_model=HistoryResponse
)
async def history(state: StateDep, query: HistoryQ) -> Response:
    """The last `hours` of P95 per model with ISO 8601 timestamps (about 120 points).

    `curl 'http://localhost:8000/api/metrics/history/?hours=6&model_name=gpt-4'`
    """
    return encoded_answer(await p95_series.p95_history(source_for(state, query), query))


@router.get("/slo/", summary="SLO attainment and Apdex of every model", response_model=SLOResponse)
async def slo_attainment(state: StateDep, query: SLOQ) -> Response:
    """The share of requests at or below `threshold_ms` over `time_range` (default 1h), against
    `objective` percent; with `apdex_t_ms`, the Apdex score too.

    `curl 'http://localhost:8000/api/metrics/slo/?threshold_ms=500&objective=99.9'`
    """
    return encoded_answer(await slo.current_slo(source_for(state, query), query))


@router.get(
    "/distribution/",
    summary="Latency distribution of every model, for histogram charts",
    response_model=DistributionResponse,
)
async def latency_distribution(state: StateDep, query: DistributionQ) -> Response:
    """Every bucket of each model over `time_range`, sorted by bound, not cumulative.

    `curl 'http://localhost:8000/api/metrics/distribution/?time_range=10m&model=gpt-4'`
    """
    return encoded_answer(await distribution.current_distribution(source_for(state, query), query))


@router.get(
    "/distribution/range/",
    summary="Latency distribution of every model over time, for heatmaps",
    response_model=DistributionRangeResponse,
)
async def latency_distribution_range(state: StateDep, query: DistributionRangeQ) -> Response:
    """The buckets of each model at every `step` over `duration` (rates over `time_range`).

    `curl 'http://localhost:8000/api/metrics/distribution/range/?duration=6h&step=5m'`
    """
    return encoded_answer(await distribution.distribution_range(source_for(state, query), query))
