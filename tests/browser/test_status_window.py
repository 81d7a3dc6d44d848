"""A model page's chart window (15 minutes to 7 days) and its cursor, in Chromium.

The page is pinned to the dataset's last moment (`?time=END`); the values the cursor shows
on the latency chart are compared with what `/api/metrics/p95/range/` answers for the
same range (the chart itself reads `/api/models/range/`).
"""

from __future__ import annotations

import itertools
import re

import httpx
import pytest

from tests.browser.conftest import ARTIFACTS
from tests.browser.expected import points_with_data
from tests.support.dataset import BEGIN, END

pytestmark = pytest.mark.browser

# window -> (seconds, step in seconds, step as the API takes it, seconds between time ticks)
WINDOWS = {
    "15m": (900, 15, "15s", 300),
    "1h": (3600, 60, "1m", 900),
    "6h": (21600, 300, "5m", 3600),
    "24h": (86400, 900, "15m", 3 * 3600),
    "7d": (604800, 7200, "2h", 86400),
}
TITLES = {"15m": "15 minutes", "1h": "hour", "6h": "6 hours", "24h": "24 hours", "7d": "7 days"}
MODEL = "llama-3"  # degrades two hours before END
PAGE = f"/models/?model={MODEL}&time={END}"
CHART = '#charts figure[data-signal="latency_p95"]'

CHART_JS = """svg => ({
    window: svg.dataset.window,
    start: Number(svg.dataset.start),
    end: Number(svg.dataset.end),
    ticks: [...svg.querySelectorAll('text.tick-x')].map(t => Number(t.dataset.t)),
    labels: [...svg.querySelectorAll('text.tick-x')].map(t => t.textContent),
    series: [...svg.querySelectorAll('path.series')].map(
        p => (p.getAttribute('d').match(/[ML]/g) || []).length),
})"""
TIP_JS = """tip => ({
    hidden: tip.hidden,
    timestamp: Number(tip.dataset.timestamp),
    rows: [...tip.querySelectorAll('li')].map(li => ({
        series: li.dataset.series, text: li.querySelector('.value').textContent})),
})"""


async def load(page, url: str) -> None:
    await page.goto(url)
    # A function, not an expression: the page's CSP forbids eval, which an expression needs.
    await page.wait_for_function(
        "n => Number(document.body.dataset.refreshes || 0) >= n", arg=1, timeout=30_000
    )


async def chart(page, window: str) -> dict:
    svg = page.locator(f'{CHART} svg[data-window="{window}"]')
    await svg.wait_for(state="attached", timeout=30_000)
    return await svg.evaluate(CHART_JS)


async def tip(page) -> dict:
    return await page.eval_on_selector(f"{CHART} .chart-tip", TIP_JS)


def api_range(base: str, window: str) -> dict[float, float | None]:
    """The model's p95 by timestamp, as /api/metrics/p95/range/ answers for the window."""
    _, _, step, _ = WINDOWS[window]
    params = {"duration": window, "step": step, "end": str(END), "model": MODEL}
    body = httpx.get(f"{base}/api/metrics/p95/range/", params=params, timeout=30).json()
    (series,) = body["data"]
    return {p["timestamp"]: p["p95_latency_ms"] for p in series["data_points"]}


def shown(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} ms"


def assert_tip_matches_api(found: dict, expected: dict[float, float | None]) -> None:
    assert not found["hidden"]
    (row,) = found["rows"]
    assert row["series"] == "default latency_p95"
    assert row["text"] == shown(expected.get(found["timestamp"])), found["timestamp"]


async def test_window_selector_changes_the_window_ticks_and_points(desktop, service):
    page = desktop.page
    ranges: list[str] = []
    page.on("request", lambda r: "/api/models/range/" in r.url and ranges.append(r.url))
    await load(page, f"{service.url}{PAGE}")
    await chart(page, "1h")
    assert await page.is_checked('input[name="window"][value="1h"]')
    for window in ("15m", "6h", "24h", "7d", "1h"):
        seconds, step, step_text, tick = WINDOWS[window]
        await page.click(f'input[name="window"][value="{window}"]', force=True)
        drawn = await chart(page, window)
        assert f"duration={window}&step={step_text}" in ranges[-1].replace("%3A", ":")
        assert drawn["end"] == END
        assert drawn["end"] - drawn["start"] == seconds
        ticks = drawn["ticks"]
        # One tick per `tick` seconds, and one more when the window starts on a tick.
        assert seconds // tick <= len(ticks) <= seconds // tick + 1, ticks
        assert all(b - a == tick for a, b in itertools.pairwise(ticks)), ticks
        assert drawn["start"] <= ticks[0] < drawn["start"] + tick
        assert drawn["end"] - tick < ticks[-1] <= drawn["end"]
        # Hours and minutes (days over 7 days), in the reader's locale ("02:15 PM" here).
        label = r"\w{3} \d{1,2}" if window == "7d" else r"\d\d:\d\d( [AP]M)?"
        assert all(re.fullmatch(label, text) for text in drawn["labels"]), drawn["labels"]
        expected = points_with_data(END - seconds, END, step)[MODEL]
        assert drawn["series"] == ([expected] if expected else []), window
        assert await page.text_content("#charts-title") == f"Over the last {TITLES[window]}"
        assert f"window={window}" in page.url
    # The choice is in the address, so a reload (or a shared link) keeps it.
    await load(page, f"{service.url}{PAGE}&window=6h")
    assert (await chart(page, "6h"))["end"] - (await chart(page, "6h"))["start"] == 21600
    assert await page.is_checked('input[name="window"][value="6h"]')


async def test_hover_shows_every_models_value_as_the_api_gives_it(desktop, service):
    page = desktop.page
    await load(page, f"{service.url}{PAGE}&window=6h")
    await chart(page, "6h")
    expected = api_range(service.url, "6h")
    assert await page.locator(f"{CHART} .chart-tip").is_hidden()
    await page.locator(f"{CHART} .chart").scroll_into_view_if_needed()
    # Points before, around and after llama-3's change, and the last one.
    for target in (END - 5 * 3600, END - 3600 - 300, END - 1800, END):
        x, y = await page.locator(f"{CHART} svg").evaluate(
            """(svg, t) => {
                const box = svg.getBoundingClientRect();
                const scale = box.width / svg.viewBox.baseVal.width;
                const left = Number(svg.dataset.plotLeft), right = Number(svg.dataset.plotRight);
                const start = Number(svg.dataset.start), end = Number(svg.dataset.end);
                const px = left + (t - start) / (end - start) * (right - left);
                return [box.left + px * scale, box.top + box.height / 2];
            }""",
            target,
        )
        await page.mouse.move(x, y)
        found = await tip(page)
        assert found["timestamp"] == target
        assert_tip_matches_api(found, expected)
        if target > BEGIN + 300:  # the dataset covers only the last three hours
            assert found["rows"][0]["text"] != "—", target
        cursor = page.locator(f"{CHART} svg g.cursor")
        assert await cursor.get_attribute("visibility") == "visible"
        assert await cursor.locator("line.cursor-line").count() == 1
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "status-page-cursor.png"))
    await page.mouse.move(5, 5)  # leaving the chart hides the values again
    assert await page.locator(f"{CHART} .chart-tip").is_hidden()


async def test_keyboard_reaches_the_window_picker_and_moves_the_cursor(desktop, service):
    page = desktop.page
    await load(page, f"{service.url}{PAGE}")
    await chart(page, "1h")
    expected = api_range(service.url, "15m")
    # The window picker is a radio group: arrow keys change the window.
    await page.focus('input[name="window"][value="1h"]')
    await page.keyboard.press("ArrowLeft")
    drawn = await chart(page, "15m")
    assert await page.is_checked('input[name="window"][value="15m"]')
    # Tab leads from the picker to the first chart; focusing it shows the last point.
    await page.keyboard.press("Tab")
    focused = "document.activeElement.closest('figure').dataset.signal"
    assert await page.evaluate(focused) == "latency_p95"
    found = await tip(page)
    assert found["timestamp"] == drawn["end"]
    assert_tip_matches_api(found, expected)
    for _ in range(3):
        await page.keyboard.press("ArrowLeft")
    found = await tip(page)
    assert found["timestamp"] == drawn["end"] - 3 * 15
    assert_tip_matches_api(found, expected)
    await page.keyboard.press("Home")
    assert (await tip(page))["timestamp"] == drawn["start"]
    await page.keyboard.press("ArrowRight")
    found = await tip(page)
    assert found["timestamp"] == drawn["start"] + 15
    assert_tip_matches_api(found, expected)
    await page.keyboard.press("End")
    assert (await tip(page))["timestamp"] == drawn["end"]
    await page.keyboard.press("Escape")
    assert await page.locator(f"{CHART} .chart-tip").is_hidden()
    assert await page.locator(f"{CHART} svg g.cursor").get_attribute("visibility") == "hidden"
