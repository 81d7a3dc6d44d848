"""An exporter no one here wrote: the OpenTelemetry Python SDK's Prometheus exporter,
recording GenAI client metrics as its instrumentation does, scraped every second by a
real Prometheus. /api/models/ with the otel-genai profile answers Prometheus's own numbers."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from app.settings import Settings
from harness.processes import free_port
from harness.prometheus import PROMETHEUS, PrometheusServer
from tests.conftest import require_binary
from tests.profiles.conftest import close, engine
from tests.support.otel_genai import MODELS, GenAiTraffic

pytestmark = pytest.mark.prometheus

LABEL = "gen_ai_request_model"
SCRAPES_WANTED = 12
WAIT_SECONDS = 60


@pytest.fixture(scope="module")
def scraped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_binary(PROMETHEUS)
    port = free_port()
    workdir = tmp_path_factory.mktemp("otel")
    (workdir / "tsdb").mkdir()
    config = (
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        "scrape_configs:\n  - job_name: genai-app\n"
        f"    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
    )
    with (
        GenAiTraffic(port),
        PrometheusServer(workdir, workdir / "tsdb", config=config) as server,
    ):
        wait_for_scrapes(server.url)
        yield server.url


def wait_for_scrapes(url: str) -> None:
    """Until Prometheus holds SCRAPES_WANTED scrapes of the exporter (bounded)."""
    query = "max(count_over_time(gen_ai_client_operation_duration_seconds_count[1m]))"
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        found = engine(url, query, "", at=time.time())
        if (found.get("") or 0) >= SCRAPES_WANTED:
            return
        time.sleep(0.5)
    raise AssertionError(f"Prometheus did not scrape the exporter {SCRAPES_WANTED} times")


async def test_the_sdk_exporters_genai_metrics_answer_with_prometheus_own_numbers(
    make_client, scraped
):
    at = int(time.time()) - 2  # every scrape up to here is in
    settings = Settings(prometheus_url=scraped, cache_ttl_seconds=0)
    async with make_client(settings) as client:
        response = await client.get("/api/models/", params={"time": at, "window": "10s"})
    body = response.json()
    assert response.status_code == 200, body
    rows = {row["model"]: row for row in body["data"]}
    assert {row["source"] for row in body["data"]} == {"otel-genai"}  # found by itself
    assert sorted(rows) == sorted(MODELS)

    def quantile(q: float, metric: str) -> dict[str, float | None]:
        promql = (
            f"1000 * histogram_quantile({q}, sum by ({LABEL}, le) (rate({metric}_bucket[10s])))"
        )
        return engine(scraped, promql, LABEL, at=at)

    def per_second(selector: str) -> dict[str, float | None]:
        return engine(scraped, f"sum by ({LABEL}) (rate({selector}[10s]))", LABEL, at=at)

    count = "gen_ai_client_operation_duration_seconds_count"
    success = engine(
        scraped,
        f'sum by ({LABEL}) (rate({count}{{error_type=""}}[10s]))'
        f" / sum by ({LABEL}) (rate({count}[10s]))",
        LABEL,
        at=at,
    )
    for model, row in rows.items():
        for field, metric in (
            ("latency_ms", "gen_ai_client_operation_duration_seconds"),
            ("ttft_ms", "gen_ai_client_operation_time_to_first_chunk_seconds"),
            ("inter_token_latency_ms", "gen_ai_client_operation_time_per_output_chunk_seconds"),
        ):
            for q in (0.5, 0.95, 0.99):
                expected = quantile(q, metric)[model]
                assert expected is not None
                assert close(row[field][f"p{round(q * 100)}"], expected), (model, field, q)
        assert close(row["requests_per_second"], per_second(count)[model])
        assert row["requests_per_second"] > 0
        for field, kind in (
            ("input_tokens_per_second", "input"),
            ("output_tokens_per_second", "output"),
        ):
            tokens = per_second(f'gen_ai_client_token_usage_sum{{gen_ai_token_type="{kind}"}}')
            assert close(row[field], tokens[model]), (model, field)
        assert close(row["success_ratio"], success[model])
    assert body["missing"] == ["queue"]  # the conventions have no queue time
