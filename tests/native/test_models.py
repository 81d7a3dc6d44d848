"""/api/models/ on native histograms: a profile whose signals are native histograms
answers Prometheus's own histogram_quantile and histogram_count rates, and a metric with
both kinds follows `histogram=` as the other endpoints do."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.settings import Settings
from harness.remote_write import NativePrometheus
from tests.native import data
from tests.native.test_service import same

pytestmark = pytest.mark.prometheus

PROFILE = f"""\
profiles:
  native-gateway:
    model_label: model
    signals:
      latency: {{metric: {data.NATIVE}, kind: histogram}}
      requests_per_second: {{metric: {data.NATIVE}, kind: histogram}}
      ttft: {{metric: {data.MIXED}, kind: histogram}}
"""


def engine(server: NativePrometheus, promql: str, scale: float = 1.0) -> dict[str, float | None]:
    found = {}
    for sample in server.query(promql, at=data.EVAL):
        value = float(sample["value"][1])
        found[sample["metric"]["model"]] = None if value != value else scale * value
    return found


async def scorecard(make_client, server, tmp_path: Path, **params):
    path = tmp_path / "profiles.yaml"
    path.write_text(PROFILE)
    settings = Settings(
        prometheus_url=server.url,
        model_profiles_file=str(path),
        model_profile="native-gateway",
        cache_ttl_seconds=0,
    )
    async with make_client(settings) as client:
        response = await client.get(
            "/api/models/", params={"time": data.EVAL, "window": f"{data.WINDOW}s", **params}
        )
    assert response.status_code == 200, response.text
    return response.json()


async def test_native_percentiles_and_request_rates_are_prometheus_own(
    make_client, native_prometheus, tmp_path
):
    body = await scorecard(make_client, native_prometheus, tmp_path)
    rows = {row["model"]: row for row in body["data"]}
    window = f"{data.WINDOW}s"
    rates = f"sum by (model) (rate({data.NATIVE}[{window}]))"
    for q in (0.5, 0.95, 0.99):
        expected = engine(native_prometheus, f"histogram_quantile({q}, {rates})", 1000)
        for model, value in expected.items():
            assert same(rows[model]["latency_ms"][f"p{round(q * 100)}"], value), (model, q)
    counts = engine(
        native_prometheus, f"sum by (model) (histogram_count(rate({data.NATIVE}[{window}])))"
    )
    for model, value in counts.items():
        assert same(rows[model]["requests_per_second"], value), model
    assert rows["gpt-4"]["requests_per_second"] > 0
    assert rows["quiet"]["requests_per_second"] == 0
    assert rows["quiet"]["status"] == "idle"


@pytest.mark.parametrize("histogram", ["native", "classic"])
async def test_a_metric_with_both_kinds_follows_the_histogram_parameter(
    make_client, native_prometheus, tmp_path, histogram
):
    body = await scorecard(make_client, native_prometheus, tmp_path, histogram=histogram)
    rows = {row["model"]: row for row in body["data"]}
    window = f"{data.WINDOW}s"
    selector = f"{data.MIXED}_bucket" if histogram == "classic" else data.MIXED
    grouping = "model, le" if histogram == "classic" else "model"
    expected = engine(
        native_prometheus,
        f"histogram_quantile(0.95, sum by ({grouping}) (rate({selector}[{window}])))",
        1000,
    )
    assert expected
    for model, value in expected.items():
        assert same(rows[model]["ttft_ms"]["p95"], value), (model, histogram)
