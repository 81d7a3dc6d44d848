"""The service's own observability: its metrics, the request middleware, ``/metrics``.

The middleware is a pure-ASGI layer the factory wraps around the app
(``app/factory.py``, ``build_stack``), and ``exposition.router`` serves ``/metrics``:

>>> from prometheus_client import CollectorRegistry
>>> async def inner(scope, receive, send): ...
>>> layer = MetricsMiddleware(inner, metrics=ServiceMetrics(CollectorRegistry()))

Every metric name and label is listed in the README (Observability and health).
"""

from app.observability.metrics import ServiceMetrics
from app.observability.middleware import MetricsMiddleware

__all__ = ["MetricsMiddleware", "ServiceMetrics"]
