"""/api/models/ against a real VictoriaMetrics holding every profile's series: the
metric-name lookup (``/api/v1/label/__name__/values`` with ``match[]``) finds the
profiles, and every number is the engine's own answer to the same question."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.settings import Settings
from harness.victoria import VICTORIA_METRICS, VictoriaMetricsServer
from tests.conftest import require_binary
from tests.support.engine import close
from tests.support.engine import engine as engine_at
from tests.support.profile_dataset import DATA, END


@pytest.fixture(scope="module")
def victoria_profiles(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VictoriaMetricsServer]:
    require_binary(VICTORIA_METRICS)
    workdir = tmp_path_factory.mktemp("victoria-profiles")
    with VictoriaMetricsServer.loaded(workdir, DATA.openmetrics()) as server:
        yield server


def engine(vm: VictoriaMetricsServer, promql: str, label: str) -> dict[str, float | None]:
    return engine_at(vm.prometheus_url, promql, label, END)


async def test_profiles_are_found_and_numbers_are_the_engines(make_client, victoria_profiles):
    vm = victoria_profiles
    settings = Settings(prometheus_url=vm.prometheus_url, cache_ttl_seconds=0)
    async with make_client(settings) as client:
        response = await client.get("/api/models/", params={"time": END})
    body = response.json()
    assert response.status_code == 200, body
    assert {row["source"] for row in body["data"]} >= {"vllm", "litellm", "tgi", "triton"}
    vllm = {row["model"]: row for row in body["data"] if row["source"] == "vllm"}
    row = vllm["llama-3-8b"]
    label = "model_name"
    p95 = engine(
        vm,
        "1000 * histogram_quantile(0.95, sum by (model_name, le) "
        "(rate(vllm:time_to_first_token_seconds_bucket[5m])))",
        label,
    )
    assert close(row["ttft_ms"]["p95"], p95["llama-3-8b"])
    tokens = engine(vm, "sum by (model_name) (rate(vllm:generation_tokens_total[5m]))", label)
    assert close(row["output_tokens_per_second"], tokens["llama-3-8b"])
    ratio = engine(
        vm,
        'sum by (model_name) (rate(vllm:request_success_total{finished_reason=~"stop|length"}[5m]))'
        " / sum by (model_name) (rate(vllm:request_success_total[5m]))",
        label,
    )
    assert close(row["success_ratio"], ratio["llama-3-8b"])
