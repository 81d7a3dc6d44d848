"""SLO attainment and the distribution against a real VictoriaMetrics: its ``rate`` does
not extrapolate as Prometheus's does, so the expected numbers are its own answers to
the same ratios, asked directly."""

from __future__ import annotations

import httpx
import pytest

from app.settings import Settings
from tests.support.dataset import END

TENANT = {"X-Scope-OrgID": "team-a"}
SECONDS = "request_duration_seconds"
MODELS = ("gpt-4", "llama-3", "overflow")


async def engine(vm, promql: str) -> dict[str, float]:
    async with httpx.AsyncClient(headers=TENANT, timeout=10, trust_env=False) as client:
        response = await client.post(
            vm.prometheus_url + "/api/v1/query", data={"query": promql, "time": END}
        )
    result = response.json()["data"]["result"]
    return {item["metric"].get("model", ""): float(item["value"][1]) for item in result}


async def get(make_client, vm, path: str, **params) -> dict[str, dict]:
    settings = Settings(
        prometheus_url=vm.prometheus_url, prometheus_headers=TENANT, cache_ttl_seconds=0
    )
    async with make_client(settings) as client:
        response = await client.get(path, params={"time": END, **params})
    assert response.status_code == 200, response.text
    return {row["model"]: row for row in response.json()["data"]}


async def test_a_share_at_a_bound_is_the_engine_own_ratio(victoria, make_client):
    rows = await get(make_client, victoria, "/api/metrics/slo/", threshold_ms="500")
    under = await engine(victoria, f'sum by (model) (rate({SECONDS}_bucket{{le="0.5"}}[1h]))')
    total = await engine(victoria, f'sum by (model) (rate({SECONDS}_bucket{{le="+Inf"}}[1h]))')
    for model in MODELS:
        assert rows[model]["exact"] is True
        expected = under[model] / total[model]
        assert rows[model]["share_under_threshold"] == pytest.approx(expected, rel=1e-9)


async def test_the_buckets_add_up_to_the_engine_own_rate(victoria, make_client):
    rows = await get(make_client, victoria, "/api/metrics/distribution/")
    total = await engine(victoria, f'sum by (model) (rate({SECONDS}_bucket{{le="+Inf"}}[5m]))')
    for model in MODELS:
        rates = [b["per_second"] for b in rows[model]["buckets"]]
        assert sum(rates) == pytest.approx(total[model], rel=1e-9)
