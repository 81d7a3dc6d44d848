"""The service's quantiles equal Prometheus's own ``histogram_quantile`` on the same data.

Both sides read one real Prometheus at one instant: Prometheus evaluates
``histogram_quantile(q, sum by (model, le) (rate(...)))``; the service asks for the
inner bucket rates and computes ``q`` itself. The numbers must be the same float64,
not merely close, including NaN and the infinities.
"""

from __future__ import annotations

import math

import httpx
import pytest

from app.promql import decode, tables
from app.promql.client import PrometheusClient
from app.promql.quantile import bucket_lists, bucket_quantile
from app.promql.screen import grouped
from app.promql.upstream import KeptSample, Keys
from app.settings import Settings
from tests.performance import oddities
from tests.performance.conftest import CountingTransport, running

pytestmark = pytest.mark.prometheus

KEYS = Keys("model", "le")
RATES = f"sum by (model, le) (rate({oddities.METRIC}_bucket[5m]))"
QUANTILES = [-0.5, 0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1, 1.5, math.nan]


async def prometheus_answers(url: str, q: float) -> dict[str, float]:
    """Prometheus's histogram_quantile per model, parsed from its raw JSON (NaN kept)."""
    phi = "(0 / 0)" if math.isnan(q) else repr(q)  # PromQL's literal NaN is not a scalar arg here
    query = f"histogram_quantile({phi}, {RATES})"
    async with httpx.AsyncClient() as http:
        response = await http.post(
            url + "/api/v1/query", data={"query": query, "time": str(oddities.END)}
        )
    result = response.json()["data"]["result"]
    return {item["metric"]["model"]: float(item["value"][1]) for item in result}


async def raw_bucket_rates(url: str) -> list[KeptSample]:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            url + "/api/v1/query", data={"query": RATES, "time": str(oddities.END)}
        )
    samples, _ = decode.kept_vector(KEYS)(response.status_code, response.content, url)
    return samples


def same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


@pytest.mark.parametrize("q", QUANTILES, ids=str)
async def test_bucket_quantile_equals_prometheus(odd_prometheus, q):
    expected = await prometheus_answers(odd_prometheus.url, q)
    samples = await raw_bucket_rates(odd_prometheus.url)
    groups = bucket_lists(grouped(samples, KEYS, counts=True).by)
    assert set(groups) == set(expected)
    assert len(expected) >= 40
    mismatches = {
        model: (bucket_quantile(q, buckets), expected[model])
        for model, buckets in groups.items()
        if not same(bucket_quantile(q, buckets), expected[model])
    }
    assert mismatches == {}


async def test_odd_cases_take_the_special_paths(odd_prometheus):
    """Guard the dataset: the odd models really exercise NaN and the fix-ups."""
    median = await prometheus_answers(odd_prometheus.url, 0.5)
    for model in ("no-inf", "only-inf", "no-traffic", "mixed-inf"):
        assert math.isnan(median[model]), model
    assert median["overflow"] == 0.5  # rank in +Inf: the second-highest bound
    # Counts 5, 3, 8, 7, 9 become 5, 5, 8, 8, 9: rank 4.5 lies in the first bucket.
    assert median["nonmonotonic"] == pytest.approx(0.1 * 4.5 / 5)


@pytest.mark.parametrize("table_min", [1, tables.TABLE_MIN], ids=["table", "default"])
async def test_percentiles_endpoint_equals_prometheus(odd_prometheus, table_min, monkeypatch):
    """Through the whole service: one upstream query, every percentile as Prometheus says;
    with ``table_min`` 1 every layout the table can take is computed as a table."""
    monkeypatch.setattr(tables, "TABLE_MIN", table_min)
    wanted = (1.0, 50.0, 95.0, 99.9)
    transport = CountingTransport()
    settings = Settings(prometheus_url=odd_prometheus.url, cache_ttl_seconds=0)
    async with running(settings, transport) as service:
        transport.clear()
        response = await service.client.get(
            "/api/metrics/percentiles/",
            params={
                "metric_name": oddities.METRIC,
                "percentiles": ",".join(f"{p:g}" for p in wanted),
                "time": oddities.END,
            },
        )
    assert response.status_code == 200, response.text
    assert len(transport.queries()) == 1
    assert "histogram_quantile" not in transport.queries()[0]
    rows = {row["model"]: row["percentiles"] for row in response.json()["data"]}
    for p in wanted:
        expected = await prometheus_answers(odd_prometheus.url, p / 100)
        assert set(rows) == set(expected)
        for model, value in expected.items():
            want = round(value * 1000, 6) if math.isfinite(value) else None
            assert rows[model][f"p{p:g}"] == want, (model, p)


async def test_client_parse_keeps_the_order_prometheus_sent(odd_prometheus):
    """Equal bounds are summed in arrival order, as Go's stable small sort does."""
    async with httpx.AsyncClient() as http:
        client = PrometheusClient(http, odd_prometheus.url)
        result = await client.query(RATES, at=oddities.END)
    raw = await raw_bucket_rates(odd_prometheus.url)
    kept = [{"model": s.labels.group, "le": s.labels.key} for s in raw]
    assert [dict(s.labels) for s in result.items] == kept
