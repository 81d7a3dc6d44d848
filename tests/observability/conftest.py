"""Helpers for the observability tests: an app with a fresh metrics registry, a fake upstream."""

from __future__ import annotations

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
from tests.support import fake_prometheus

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
    """A bucket-rate answer for two models (``Constant`` answers a quantile query with
    the quantiles of these buckets)."""
    result = [
        {"metric": {"model": model, "le": le}, "value": [1_700_000_000, value]}
        for model in MODELS
        for le, value in (("0.1", "1"), ("0.5", "2"), ("+Inf", "2"))
    ]
    return {"status": "success", "data": {"resultType": "vector", "result": result}}


def FakePrometheus(mode: str = "ok", delay: float = 0.0) -> fake_prometheus.FakePrometheus:
    """The fake Prometheus in one ``mode`` (ok, down, slow, html, error500, wrong_shape),
    answering every query with ``bucket_vector()``; its ``calls`` list the paths asked.
    ``html`` is a proxy's 200 error page here."""
    answers = fake_prometheus.Constant(bucket_vector(), ready=True)
    mode = "wrong_type" if mode == "wrong_shape" else mode
    return fake_prometheus.FakePrometheus(answers, mode, delay=delay, html_status=200)


def fake_settings(**overrides: object) -> Settings:
    defaults: dict[str, object] = {"prometheus_url": "http://prometheus.test"}
    return Settings(**{**defaults, **overrides})  # type: ignore[arg-type]


@pytest.fixture
def fake() -> fake_prometheus.FakePrometheus:
    return FakePrometheus()
