"""A real Prometheus holding every built-in profile's series (tests/support/profile_dataset.py),
and Prometheus's own answers to compare with."""

from __future__ import annotations

import math
from collections.abc import Iterator

import httpx
import pytest

from harness.prometheus import PrometheusServer
from tests.conftest import backfilled_prometheus
from tests.support.profile_dataset import DATA, END


@pytest.fixture(scope="package")
def profiles_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    yield from backfilled_prometheus(tmp_path_factory, "profiles", DATA.openmetrics())


def engine(url: str, promql: str, label: str, at: float = END) -> dict[str, float | None]:
    """Prometheus's own answer to ``promql`` at ``at``, by the value of ``label``."""
    response = httpx.post(f"{url}/api/v1/query", data={"query": promql, "time": str(at)})
    response.raise_for_status()
    found: dict[str, float | None] = {}
    for item in response.json()["data"]["result"]:
        value = float(item["value"][1])
        found[item["metric"].get(label, "")] = value if math.isfinite(value) else None
    return found


def close(actual: float | None, expected: float | None) -> bool:
    if expected is None:
        return actual is None
    return actual is not None and math.isclose(actual, expected, rel_tol=1e-6, abs_tol=1e-9)
