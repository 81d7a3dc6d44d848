"""The fake Prometheus whose numbers change every second, under the name the status page's
stream test runs with uvicorn (``tests.support.changing_prometheus:app``)."""

from tests.support.fake_prometheus import changing_app as app

__all__ = ["app"]
