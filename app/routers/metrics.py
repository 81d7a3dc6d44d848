"""The /api/metrics endpoints, with the shapes the earlier APIs' frontends expect."""

from __future__ import annotations

from fastapi import APIRouter

from app.deps import HistoryDep, InstantDep, PercentilesDep, PrometheusDep, RangeDep
from app.schemas.errors import UPSTREAM_RESPONSES
from app.schemas.metrics import (
    HistoryResponse,
    P95Response,
    PercentilesResponse,
    RangeResponse,
    SummaryResponse,
)
from app.services import latency

router = APIRouter(prefix="/api/metrics", tags=["metrics"], responses=UPSTREAM_RESPONSES)


@router.get("/", summary="P50, P95 and P99 of every model now")
async def summary(prom: PrometheusDep, params: InstantDep) -> SummaryResponse:
    """The collector API's summary: one row per model with three percentiles.

    `curl 'http://localhost:8000/api/metrics/?time_range=10m'`
    """
    return await latency.current_summary(prom, params)


@router.get("/p95/", summary="P95 latency of every model now")
async def p95(prom: PrometheusDep, params: InstantDep) -> P95Response:
    """The P95 of each model over the last `time_range`, in milliseconds, sorted by model.

    `curl 'http://localhost:8000/api/metrics/p95/?time_range=10m&model=gpt-4'`
    """
    return await latency.current_p95(prom, params)


@router.get("/p95/range/", summary="P95 latency of every model over time")
async def p95_range(prom: PrometheusDep, params: RangeDep) -> RangeResponse:
    """One series of points per model, `step` apart, over `duration` (or `start`..`end`).

    `curl 'http://localhost:8000/api/metrics/p95/range/?duration=24h&step=5m'`
    """
    return await latency.p95_range(prom, params)


@router.get("/percentiles/", summary="Several percentiles of every model now")
async def percentiles(
    prom: PrometheusDep, params: InstantDep, wanted: PercentilesDep
) -> PercentilesResponse:
    """Any percentiles strictly between 0 and 100, keyed `p50`, `p95`, `p99.9`.

    `curl 'http://localhost:8000/api/metrics/percentiles/?percentiles=50,90,99.9'`
    """
    return await latency.current_percentiles(prom, params, wanted)


@router.get("/history/", summary="P95 history of every model, for charts")
async def history(prom: PrometheusDep, params: HistoryDep) -> HistoryResponse:
    """The last `hours` of P95 per model with ISO 8601 timestamps (about 120 points).

    `curl 'http://localhost:8000/api/metrics/history/?hours=6&model_name=gpt-4'`
    """
    return await latency.p95_history(prom, params)
