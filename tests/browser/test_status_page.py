"""The status page at `/` (the model table) and each model's page in Chromium, against
the service on a real Prometheus holding the standard dataset (the `default` profile).

The pages are pinned to the dataset's last moment (`?time=END`), so the expected numbers
are exact whatever else ran before these tests.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from tests.browser.conftest import ARTIFACTS, DANGER_MS, WARNING_MS, running_service
from tests.browser.expected import points_with_data, rows_at_end
from tests.support.dataset import END

pytestmark = pytest.mark.browser

# The badge backgrounds of app/static/status.css, as the browser computes them.
BADGE_BACKGROUNDS = {
    "good": "rgb(218, 251, 225)",
    "warning": "rgb(255, 241, 194)",
    "danger": "rgb(255, 225, 225)",
    "idle": "rgb(234, 238, 242)",
}
# The expected rows say `nodata` for a model without a p95; the scorecard says `idle`.
STATE = {"good": "good", "warning": "warning", "danger": "danger", "nodata": "idle"}
ROWS_JS = """rows => rows.map(row => ({
    model: row.dataset.model,
    state: row.dataset.state,
    label: row.querySelector('.badge').textContent,
    background: getComputedStyle(row.querySelector('.badge')).backgroundColor,
    p50: row.querySelector('td.p50').textContent,
    p95: row.querySelector('td.p95').textContent,
    link: row.querySelector('td.model a').getAttribute('href'),
    visible: row.getBoundingClientRect().height > 0,
}))"""
LATENCY_CHART = '#charts figure[data-signal="latency_p95"]'
SERIES_JS = """paths => paths.map(path => ({
    series: path.dataset.series,
    points: Number(path.dataset.points),
    drawn: (path.getAttribute('d').match(/[ML]/g) || []).length,
    stroke: path.getAttribute('stroke'),
}))"""


def shown_ms(text: str) -> float | None:
    if text == "—":
        return None
    found = re.fullmatch(r"(\d+\.\d) ms", text)
    assert found, f"not a latency: {text!r}"
    return float(found.group(1))


def assert_close(shown: str, expected: float | None, what: str) -> None:
    value = shown_ms(shown)
    if expected is None:
        assert value is None, what
    else:
        assert value is not None, what
        assert abs(value - expected) <= 0.051, f"{what}: page {value}, expected {expected:.3f}"


async def load(page, url: str, refreshes: int = 1) -> None:
    await page.goto(url)
    await page.wait_for_function(
        "n => Number(document.body.dataset.refreshes || 0) >= n", arg=refreshes, timeout=30_000
    )


async def model_page(page, url: str) -> None:
    await load(page, url)
    await page.wait_for_selector(f"{LATENCY_CHART} svg", state="attached", timeout=30_000)


async def test_every_model_with_its_numbers_and_colour(desktop, service):
    page = desktop.page
    await load(page, f"{service.url}/?time={END}")
    rows = await page.eval_on_selector_all("#models tbody tr", ROWS_JS)
    expected = rows_at_end(WARNING_MS, DANGER_MS)
    assert {row["model"] for row in rows} == set(expected)
    assert {row["state"] for row in rows} == {"good", "warning", "danger", "idle"}
    for row in rows:
        want = expected[row["model"]]
        assert row["visible"], row["model"]
        assert row["state"] == STATE[want.state], row["model"]
        assert row["background"] == BADGE_BACKGROUNDS[STATE[want.state]], row["model"]
        for key in ("p50", "p95"):
            assert_close(row[key], getattr(want, key), f"{row['model']} {key}")
    assert await page.locator("#banner").is_hidden()
    assert (await page.text_content("#refreshed")).startswith("Last refresh ")
    key = await page.text_content("#key")
    assert f"below {WARNING_MS:g} ms is good" in key
    assert f"below {DANGER_MS:g} ms a warning" in key
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "status-page.png"), full_page=True)
    # The p99 moved to each model's page, beside the p50 and p95.
    for row in rows:
        await model_page(page, f"{service.url}/{row['link']}")
        cards = await page.eval_on_selector_all(
            "#scorecard .card .value", "vs => Object.fromEntries(vs.map(v => "
            "[v.closest('.card').dataset.card, v.textContent]))",
        )  # fmt: skip
        want = expected[row["model"]]
        for key in ("p50", "p95", "p99"):
            assert_close(cards[f"Latency {key}"], getattr(want, key), f"{row['model']} {key}")


async def test_chart_draws_each_models_p95_over_the_last_hour(desktop, service):
    page = desktop.page
    expected = points_with_data(END - 3600, END, 60)
    both = 0
    for model, points in expected.items():
        await model_page(page, f"{service.url}/models/?model={quote(model)}&time={END}")
        series = await page.eval_on_selector_all(f"{LATENCY_CHART} svg path.series", SERIES_JS)
        if not points:
            assert series == [], model
            legend = await page.text_content(f"{LATENCY_CHART} .chart-legend")
            assert "(no data)" in legend, model
            continue
        assert len(series) == 1, model
        assert series[0]["points"] == points, model
        assert series[0]["drawn"] == points, model
        thresholds = await page.locator(f"{LATENCY_CHART} svg line.threshold").count()
        top = await page.eval_on_selector(
            f"{LATENCY_CHART} svg", "svg => Math.max(...[...svg.querySelectorAll('.axis text')]"
            ".map(t => parseFloat(t.textContent)).filter(Number.isFinite))",
        )  # fmt: skip
        # Each threshold is drawn where it lies within the scale.
        assert thresholds == (top >= WARNING_MS) + (top >= DANGER_MS), model
        both += thresholds == 2
    assert both  # llama-3's p95 (5 s) lies above both thresholds


async def test_refreshes_on_its_own(desktop, service):
    page = desktop.page
    await load(page, f"{service.url}/?time={END}&refresh=2", refreshes=3)
    assert await page.locator("#models tbody tr").count() == len(rows_at_end(1, 2))


async def test_usable_on_a_phone(phone, service):
    page = phone.page
    await load(page, f"{service.url}/?time={END}")
    width = await page.evaluate("window.innerWidth")
    scroll = await page.evaluate("document.scrollingElement.scrollWidth")
    assert scroll <= width, "the page scrolls sideways on a phone"
    # Every cell (and the badge in it) stays inside the card that holds the table.
    card = await page.eval_on_selector(
        "#models", "t => t.closest('section').getBoundingClientRect().right"
    )
    rights = await page.eval_on_selector_all(
        "#models tbody td, #models .badge", "els => els.map(e => e.getBoundingClientRect().right)"
    )
    assert rights
    assert max(rights) <= card <= width
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "status-page-phone.png"), full_page=True)
    link = await page.get_attribute("#models tbody tr a", "href")
    await model_page(page, f"{service.url}/{link}")
    chart = await page.eval_on_selector(
        f"{LATENCY_CHART} svg", "svg => svg.getBoundingClientRect().right"
    )
    assert 0 < chart <= width
    assert await page.evaluate("document.scrollingElement.scrollWidth") <= width


async def test_unreachable_prometheus_gives_a_clear_message(desktop, second_prometheus, tmp_path):
    page = desktop.page
    no_stale = {"CACHE_TTL_SECONDS": "0", "CACHE_STALE_SECONDS": "0"}
    with_stale = {"CACHE_TTL_SECONDS": "0", "CACHE_STALE_SECONDS": "300"}
    with (
        running_service(second_prometheus.url, tmp_path, **no_stale) as plain,
        running_service(second_prometheus.url, tmp_path, **with_stale) as stale,
    ):
        await load(page, f"{stale.url}/?time={END}")  # a good answer the cache can keep
        await load(page, f"{plain.url}/?time={END}")
        rows = await page.locator("#models tbody tr").count()
        assert rows == len(rows_at_end(1, 2))
        assert await page.locator("#banner").is_hidden()

        second_prometheus.stop()
        await page.evaluate("statusPage.refresh()")
        banner = page.locator("#banner")
        assert await banner.is_visible()
        assert await banner.get_attribute("data-kind") == "unreachable"
        assert "Prometheus is unreachable" in await banner.text_content()
        # The last numbers stay on screen, dimmed, rather than a blank page.
        assert await page.locator("#models tbody tr").count() == rows
        assert "stale" in (await page.get_attribute("#models", "class") or "")
        assert "failed" in await page.text_content("#refreshed")

        await load(page, f"{plain.url}/?time={END}")  # a fresh visit while it is down
        assert await banner.is_visible()
        assert "Prometheus is unreachable" in await banner.text_content()
        assert await page.locator("h1").is_visible()
        assert await page.locator("#empty").is_hidden()
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "status-page-unreachable.png"))
        # A model's page says so too, and says why its charts are missing.
        await load(page, f"{plain.url}/models/?model=llama-3&time={END}")
        assert "Prometheus is unreachable" in await banner.text_content()
        assert "Charts unavailable" in await page.text_content("#charts")

        await load(page, f"{stale.url}/?time={END}")  # stale-if-error answers are flagged
        assert await banner.get_attribute("data-kind") == "stale"
        assert "showing the last good answer" in await banner.text_content()
        assert await page.locator("#models tbody tr").count() == rows
