"""Helpers for the observability tests: an app with a fresh metrics registry, a fake upstream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from app.factory import create_app
from app.settings import Settings

READY_TEXT = "Prometheus Server is Ready.\n"
MODELS = ("alpha", "beta")


@dataclass
class Service:
    client: httpx.AsyncClient
    registry: CollectorRegistry
    app: FastAPI

    def value(self, name: str, **labels: str) -> float:
        """A sample's value, 0 when the series does not exist yet."""
        return self.registry.get_sample_value(name, labels) or 0.0

    def label_values(self, name: str, label: str) -> set[str]:
        return {
            sample.labels[label]
            for family in self.registry.collect()
            for sample in family.samples
            if sample.name == name
        }


@asynccontextmanager
async def serve(
    settings: Settings, transport: httpx.AsyncBaseTransport | None = None
) -> AsyncIterator[Service]:
    registry = CollectorRegistry()
    app = create_app(settings, upstream_transport=transport, metrics_registry=registry)
    async with LifespanManager(app) as manager:
        asgi = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=asgi, base_url="http://testserver") as client:
            yield Service(client, registry, app)


def bucket_vector() -> dict[str, object]:
    """A bucket-rate answer for two models (also readable as a quantile answer)."""
    result = [
        {"metric": {"model": model, "le": le}, "value": [1_700_000_000, value]}
        for model in MODELS
        for le, value in (("0.1", "1"), ("0.5", "2"), ("+Inf", "2"))
    ]
    return {"status": "success", "data": {"resultType": "vector", "result": result}}


class FakePrometheus:
    """An httpx handler playing Prometheus in one ``mode``; ``calls`` lists the paths asked.

    Modes: ok, down (connection refused), slow (``delay`` seconds, then ok), html (a
    proxy's 200 error page), error500, wrong_shape (valid JSON of the wrong type).
    """

    def __init__(self, mode: str = "ok", delay: float = 0.0) -> None:
        self.mode = mode
        self.delay = delay
        self.calls: list[str] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request.url.path)
        if self.mode == "slow":
            await asyncio.sleep(self.delay)
        if self.mode == "down":
            raise httpx.ConnectError("connection refused", request=request)
        if self.mode == "html":
            return httpx.Response(200, text="<html>bad gateway</html>")
        if self.mode == "error500":
            return httpx.Response(500, text="internal error")
        if self.mode == "wrong_shape":
            body = {"status": "success", "data": {"resultType": "scalar", "result": [1, "1"]}}
            return httpx.Response(200, content=json.dumps(body))
        if request.url.path == "/-/ready":
            return httpx.Response(200, text=READY_TEXT)
        return httpx.Response(200, json=bucket_vector())


def fake_settings(**overrides: object) -> Settings:
    defaults: dict[str, object] = {"prometheus_url": "http://prometheus.test"}
    return Settings(**{**defaults, **overrides})  # type: ignore[arg-type]


@pytest.fixture
def fake() -> FakePrometheus:
    return FakePrometheus()
