"""A real Prometheus holding every built-in profile's series (tests/support/profile_dataset.py),
and Prometheus's own answers to compare with."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.prometheus import PrometheusServer
from tests.conftest import backfilled_prometheus
from tests.support.engine import close
from tests.support.engine import engine as engine_at
from tests.support.profile_dataset import DATA, END


@pytest.fixture(scope="package")
def profiles_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    yield from backfilled_prometheus(tmp_path_factory, "profiles", DATA.openmetrics())


def engine(url: str, promql: str, label: str, at: float = END) -> dict[str, float | None]:
    """Prometheus's own answer to ``promql`` at ``at`` (the dataset's end), by ``label``."""
    return engine_at(url, promql, label, at)


__all__ = ["close", "engine", "profiles_prometheus"]
