"""A real single-node VictoriaMetrics serving the standard dataset, for the engine tests.

async def test_something(victoria, make_client):
    settings = Settings(prometheus_url=victoria.prometheus_url)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.victoria import VICTORIA_METRICS, VictoriaMetricsServer
from tests.conftest import require_binary
from tests.support.dataset import DATASET


@pytest.fixture(scope="session")
def victoria(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VictoriaMetricsServer]:
    """VictoriaMetrics with the dataset imported and flushed (its Prometheus API under
    ``victoria.prometheus_url``)."""
    require_binary(VICTORIA_METRICS)
    workdir = tmp_path_factory.mktemp("victoria-metrics")
    with VictoriaMetricsServer.loaded(workdir, DATASET.openmetrics()) as server:
        yield server
