"""The one fake Prometheus of the test suite, for what a real Prometheus won't do.

Numbers are checked against a real Prometheus (tests/conftest.py); this fake plays the
failures and shapes a real one cannot easily produce. One answer logic, three ways in:

- in process, as an ``httpx.MockTransport`` handler::

      create_app(settings, upstream_transport=httpx.MockTransport(FakePrometheus()))

- as an ASGI app run by uvicorn in its own process (``wide_app``, ``changing_app``)::

      uvicorn_app(log, {"BIG_MODELS": "65"}, app="tests.support.fake_prometheus:wide_app")

- on a real loopback socket, for TCP-level faults (resets, truncated and oversized
  bodies, gzip bombs) and to record the requests exactly as sent::

      with FakeUpstream("reset") as upstream:
          Settings(prometheus_url=upstream.url)

What it answers is its ``data`` (``Steady``: healthy answers for several models,
``Wide``: range answers as large as the API allows, ``Changing``: numbers that change
every second, ``Constant``: one JSON body to every request). How it fails is its
``mode`` (see ``FakePrometheus`` and ``FakeUpstream``), which may change while it runs.
"""

from tests.support.fake_prometheus.answers import (
    ONE_MODEL,
    READY,
    Changing,
    Constant,
    Data,
    Steady,
    Wide,
    form_of,
    is_kind_probe,
    matrix,
    not_found,
    quantile_samples,
    stamps,
    success,
    vector,
)
from tests.support.fake_prometheus.fake import (
    FakePrometheus,
    asgi,
    changing_app,
    echoed,
    wide_app,
)
from tests.support.fake_prometheus.loopback import FakeUpstream, Recorded, gzip_bomb

__all__ = [
    "ONE_MODEL",
    "READY",
    "Changing",
    "Constant",
    "Data",
    "FakePrometheus",
    "FakeUpstream",
    "Recorded",
    "Steady",
    "Wide",
    "asgi",
    "changing_app",
    "echoed",
    "form_of",
    "gzip_bomb",
    "is_kind_probe",
    "matrix",
    "not_found",
    "quantile_samples",
    "stamps",
    "success",
    "vector",
    "wide_app",
]
