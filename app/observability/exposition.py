"""``GET /metrics``: the Prometheus text exposition of the service itself."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, CollectorRegistry, generate_latest

from app.observability import multiprocess
from app.observability.metrics import ServiceMetrics

router = APIRouter(tags=["observability"])


def scrape_registry(metrics: ServiceMetrics) -> CollectorRegistry:
    """This process's registry, or in multiprocess mode a fresh one that sums all workers."""
    if metrics.multiprocess_dir is None:
        return metrics.registry
    return multiprocess.collection_registry(metrics.multiprocess_dir)


def render(metrics: ServiceMetrics) -> bytes:
    return generate_latest(scrape_registry(metrics))


@router.get(
    "/metrics",
    summary="Prometheus metrics of the service itself",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_PLAIN_0_0_4: {}}, "description": "Text exposition."}},
)
async def metrics_endpoint(request: Request) -> Response:
    """Request counts and durations per route, Prometheus queries, cache and process metrics.

    `curl http://localhost:8000/metrics`
    """
    metrics: ServiceMetrics = request.app.state.observability
    state = getattr(request.state, "app", None)
    if state is not None:
        metrics.cache_entries.set(len(state.cache))
    # The classic text format, which every Prometheus 2.x parses.
    return Response(render(metrics), media_type=CONTENT_TYPE_PLAIN_0_0_4)
