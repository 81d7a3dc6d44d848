"""Shared fixtures: a real Prometheus with the standard dataset, and app clients.

async def test_something(prometheus, make_client):
    async with make_client(Settings(prometheus_url=prometheus.url)) as client:
        response = await client.get("/api/metrics/p95/")
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from app.factory import create_app
from app.settings import Settings
from harness.prometheus import PROMETHEUS, PrometheusServer
from tests.support.dataset import DATASET

ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


def require_binary(path: str) -> None:
    """Outside CI a missing binary skips; in CI (CI=true) it fails, so nothing skips there."""
    if shutil.which(path) or Path(path).exists():
        return
    message = f"{path} is not installed (make test installs it)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)  # outside CI only: under CI=true the line above fails


def backfilled_prometheus(
    tmp_path_factory: pytest.TempPathFactory, name: str, openmetrics: str
) -> Iterator[PrometheusServer]:
    """A real Prometheus serving ``openmetrics``, for a fixture to ``yield from``."""
    require_binary(PROMETHEUS)
    with PrometheusServer.backfilled(tmp_path_factory.mktemp(name), openmetrics) as server:
        yield server


@pytest.fixture(scope="session")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    """A real Prometheus serving the standard dataset (tests/support/dataset.py)."""
    yield from backfilled_prometheus(tmp_path_factory, "prometheus", DATASET.openmetrics())


@pytest.fixture
def make_client() -> ClientFactory:
    """Build the app with explicit settings, run its lifespan, and talk to it in-process."""

    @asynccontextmanager
    async def factory(
        settings: Settings, transport: httpx.AsyncBaseTransport | None = None
    ) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(settings, upstream_transport=transport)
        async with LifespanManager(app) as manager:
            asgi = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=asgi, base_url="http://testserver") as client:
                yield client

    return factory
