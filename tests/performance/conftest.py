"""Fixtures of the performance tests: odd histograms in a real Prometheus, counted upstream.

Correctness only (how many upstream queries, which points); never timings.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from app.factory import create_app
from app.settings import Settings
from app.state import AppState
from harness.prometheus import PrometheusServer
from tests.conftest import backfilled_prometheus
from tests.performance import oddities
from tests.support.fake_prometheus import is_kind_probe


@dataclass
class Upstream:
    """One request the service sent to Prometheus."""

    path: str
    form: dict[str, str]


@dataclass
class CountingTransport(httpx.AsyncBaseTransport):
    """Forwards to the real Prometheus and remembers every request it forwarded.

    The question of which kind of histogram a metric has (asked once per metric) is kept
    apart in ``probes``: these tests count the queries that answer requests.
    """

    inner: httpx.AsyncBaseTransport = field(default_factory=httpx.AsyncHTTPTransport)
    seen: list[Upstream] = field(default_factory=list)
    probes: list[Upstream] = field(default_factory=list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = (await request.aread()).decode()
        form = {key: values[-1] for key, values in parse_qs(body).items()}
        (self.probes if is_kind_probe(request) else self.seen).append(
            Upstream(request.url.path, form)
        )
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def queries(self) -> list[str]:
        return [u.form["query"] for u in self.seen if u.path.startswith("/api/v1/query")]

    def clear(self) -> None:
        self.seen.clear()


@pytest.fixture(scope="session")
def odd_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    """A real Prometheus serving tests/performance/oddities.py."""
    yield from backfilled_prometheus(tmp_path_factory, "odd-prometheus", oddities.openmetrics())


class FakeClock:
    """Time that moves only when a test says so."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Running:
    app: FastAPI
    client: httpx.AsyncClient
    state: AppState


@asynccontextmanager
async def running(
    settings: Settings, transport: httpx.AsyncBaseTransport
) -> AsyncIterator[Running]:
    """The app with its lifespan running, an in-process client, and the lifespan's state."""
    app = create_app(settings, upstream_transport=transport)
    seen: dict[str, AppState] = {}

    async def spy(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            seen.setdefault("app", scope["state"]["app"])
        await app(scope, receive, send)

    async with LifespanManager(spy) as manager:
        asgi = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=asgi, base_url="http://testserver") as client:
            await client.get("/no-such-page")  # any request shows the spy the state
            yield Running(app, client, seen["app"])
