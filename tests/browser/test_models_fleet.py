"""The overview with 500 models on a real Prometheus: every row, one request per refresh,
no sideways scroll, and the time to render the answer and to filter per keystroke.

The times are measured and printed (and written to bench/results.md by hand), not
asserted: a shared CI machine's timings say little.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from harness.processes import Service
from harness.prometheus import PrometheusServer
from tests.browser.conftest import running_service
from tests.conftest import backfilled_prometheus
from tests.support.profile_dataset import END
from tests.support.status_dataset import fleet, fleet_model

pytestmark = pytest.mark.browser

MODELS = 500


@pytest.fixture(scope="module")
def fleet_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    yield from backfilled_prometheus(tmp_path_factory, "fleet", fleet(MODELS))


@pytest.fixture(scope="module")
def fleet_service(fleet_prometheus, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    logs = tmp_path_factory.mktemp("fleet-service")
    with running_service(fleet_prometheus.url, logs, CACHE_TTL_SECONDS="1") as running:
        yield running


async def test_five_hundred_models_render_and_filter(desktop, fleet_service):
    page = desktop.page
    asked: list[tuple[float, str]] = []
    answered: list[float] = []

    def on_response(response) -> None:
        if "/api/models/" in response.url:
            answered.append(time.monotonic())

    page.on("request", lambda r: "/api/" in r.url and asked.append((time.monotonic(), r.url)))
    page.on("response", on_response)
    await page.goto(f"{fleet_service.url}/?time={END}&refresh=2")
    await page.wait_for_function(
        "n => document.querySelectorAll('#models tbody tr').length >= n", arg=MODELS, timeout=60_000
    )
    shown_at = time.monotonic()
    names = await page.eval_on_selector_all(
        "#models tbody tr", "rows => rows.map(r => r.dataset.model)"
    )
    assert sorted(names) == sorted(fleet_model(i) for i in range(MODELS))
    render_ms = await page.evaluate("statusPage.view.timings.render[0]")
    seen_ms = (shown_at - answered[0]) * 1000

    await page.wait_for_function(
        "n => Number(document.body.dataset.refreshes || 0) >= n", arg=3, timeout=30_000
    )
    refreshes = int(await page.evaluate("document.body.dataset.refreshes"))
    scorecards = [url for _, url in asked if "/api/models/" in url]
    others = [url for _, url in asked if "/api/models/" not in url]
    # One request per refresh (the next one may be on its way), nothing else.
    assert refreshes <= len(scorecards) <= refreshes + 1
    assert [url for url in others if "/api/status/config/" not in url] == []

    width = await page.evaluate("window.innerWidth")
    assert await page.evaluate("document.scrollingElement.scrollWidth") <= width

    await page.focus("#filter")
    await page.keyboard.type("org-3/model-1", delay=20)
    visible = await page.eval_on_selector_all(
        "#models tbody tr:not([hidden])", "rows => rows.map(r => r.dataset.model)"
    )
    expected = [fleet_model(i) for i in range(MODELS) if "org-3/model-1" in fleet_model(i)]
    assert sorted(visible) == sorted(expected)
    filter_ms = await page.evaluate("statusPage.view.timings.filter")
    assert len(filter_ms) == len("org-3/model-1")
    print(
        f"\n{MODELS} models: answer to rows laid out {render_ms:.0f} ms in the page "
        f"({seen_ms:.0f} ms from the response as the test saw it); filter per keystroke "
        f"max {max(filter_ms):.1f} ms, median {sorted(filter_ms)[len(filter_ms) // 2]:.1f} ms"
    )
