"""The service's own observability: its metrics, the request middleware, ``/metrics``.

    metrics = ServiceMetrics()                       # or ServiceMetrics(CollectorRegistry())
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.include_router(exposition.router)

Every metric name and label is listed in the README (Observability and health).
"""

from app.observability.metrics import ServiceMetrics
from app.observability.middleware import MetricsMiddleware

__all__ = ["MetricsMiddleware", "ServiceMetrics"]
