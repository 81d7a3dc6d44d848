"""A real Prometheus with native histograms, fed the observations of data.py by remote write."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.prometheus import PROMETHEUS
from harness.remote_write import NativePrometheus
from tests.conftest import require_binary
from tests.native import data
from tests.support.remote_write import push


@pytest.fixture(scope="package")
def native_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NativePrometheus]:
    require_binary(PROMETHEUS)
    with NativePrometheus.empty(tmp_path_factory.mktemp("native")) as server:
        push(server.url, data.all_series())
        yield server
