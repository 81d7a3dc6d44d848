"""The model status page in Chromium against the service on a real Prometheus holding vLLM
and LiteLLM series (now, and a day before with faster latencies).

The overview and each model page are pinned to the dataset's last moment (`?time=END`);
every number is compared with what the API answers for the same question, asked here.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.browser.conftest import ARTIFACTS
from tests.support.profile_dataset import END, VLLM_LATENCY

pytestmark = pytest.mark.browser

ROWS_JS = """rows => rows.map(row => ({
    model: row.dataset.model, source: row.dataset.source, state: row.dataset.state,
    hidden: row.hidden,
    cells: Object.fromEntries([...row.cells].map(td => [td.classList[0], td.textContent.trim()])),
    change: (row.querySelector('[data-change]') || {dataset: {change: null}}).dataset.change,
}))"""
CHARTS_JS = """figures => figures.filter(f => !f.hidden).map(f => ({
    signal: f.dataset.signal,
    lines: [...f.querySelectorAll('path.series')].map(p => ({
        points: Number(p.dataset.points),
        drawn: (p.getAttribute('d').match(/[ML]/g) || []).length,
    })),
}))"""
CARDS_JS = """cards => Object.fromEntries(cards.map(
    c => [c.dataset.card, c.querySelector('.value, .badge').textContent]))"""
SIGNALS = "latency_p95,ttft_p95,output_tokens_per_second,requests_per_second,success_ratio"


def shown(text: str) -> float | None:
    """The number in a cell: ``812.5 ms``, ``611.9/s``, ``99.50 %``; None for a dash."""
    if text == "—":
        return None
    found = re.fullmatch(r"(-?\d+(?:\.\d+)?)(?: ms|/s| %)", text)
    assert found, f"not a number: {text!r}"
    return float(found.group(1))


def close(text: str, expected: float | None, digits: int, what: str) -> None:
    value = shown(text)
    if expected is None:
        assert value is None, what
        return
    assert value is not None, what
    assert abs(value - expected) <= 0.51 * 10**-digits, f"{what}: page {value}, API {expected}"


async def api(service, path: str, **params) -> dict:
    async with httpx.AsyncClient(base_url=service.url, trust_env=False) as client:
        response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def load(page, url: str) -> None:
    await page.goto(url)
    await page.wait_for_function(
        "n => Number(document.body.dataset.refreshes || 0) >= n", arg=1, timeout=30_000
    )


async def rows(page) -> list[dict]:
    return await page.eval_on_selector_all("#models tbody tr", ROWS_JS)


async def test_the_overview_shows_every_row_of_the_api_with_its_numbers(desktop, models_service):
    page = desktop.page
    await load(page, f"{models_service.url}/?time={END}")
    answer = await api(models_service, "/api/models/", time=END, compare="1d")
    shown_rows = await rows(page)
    assert {(r["model"], r["source"]) for r in shown_rows} == {
        (r["model"], r["source"]) for r in answer["data"]
    }
    assert {r["source"] for r in shown_rows} == {"vllm", "litellm"}
    headers = await page.eval_on_selector_all(
        "#models thead th", "ths => ths.map(th => th.dataset.key)"
    )
    assert headers == [
        "model", "source", "status", "p50", "p95", "ttft", "tokens", "success", "change"
    ]  # fmt: skip
    by_key = {(r["model"], r["source"]): r for r in answer["data"]}
    increased = 0
    for row in shown_rows:
        want = by_key[(row["model"], row["source"])]
        what = f"{row['model']} ({row['source']})"
        cells = row["cells"]
        assert row["state"] == want["status"], what
        close(cells["p50"], want["latency_ms"]["p50"], 1, f"{what} p50")
        close(cells["p95"], want["latency_ms"]["p95"], 1, f"{what} p95")
        close(cells["ttft"], want["ttft_ms"]["p95"], 1, f"{what} ttft")
        close(cells["tokens"], want["output_tokens_per_second"], 1, f"{what} tokens")
        ratio = want["success_ratio"]
        close(cells["success"], None if ratio is None else ratio * 100, 2, f"{what} success")
        change = want["change_pct"]["latency_ms"]["p95"]
        if change is None:
            assert row["change"] == "", what
        else:
            assert float(row["change"]) == pytest.approx(change), what
            increased += change > 0
    assert increased >= 2  # yesterday's latencies were a bucket faster
    assert await page.locator(".change-up").count() == increased
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "overview.png"), full_page=True)


async def test_a_column_no_source_exports_is_hidden(desktop, models_service):
    page = desktop.page
    await load(page, f"{models_service.url}/?time={END}&profile=litellm")
    answer = await api(models_service, "/api/models/", time=END, profile="litellm")
    headers = await page.eval_on_selector_all(
        "#models thead th", "ths => ths.map(th => th.dataset.key)"
    )
    assert "source" not in headers  # one source: no column repeating it
    if "output_tokens_per_second" in answer["missing"]:
        assert "tokens" not in headers
    assert [r["model"] for r in await rows(page)] == [r["model"] for r in answer["data"]]


async def test_every_column_sorts_both_ways_by_pointer_and_keyboard(desktop, models_service):
    page = desktop.page
    await load(page, f"{models_service.url}/?time={END}")
    answer = await api(models_service, "/api/models/", time=END, compare="1d")
    p95 = {(r["model"], r["source"]): r["latency_ms"]["p95"] for r in answer["data"]}

    def order(shown_rows: list[dict]) -> list[float | None]:
        return [p95[(r["model"], r["source"])] for r in shown_rows]

    await page.click('#models th[data-key="p95"] button')
    ascending = order(await rows(page))
    known = [v for v in ascending if v is not None]
    assert known == sorted(known)
    assert ascending[: len(known)] == known  # no value last
    assert await page.get_attribute('#models th[data-key="p95"]', "aria-sort") == "ascending"
    await page.focus('#models th[data-key="p95"] button')
    await page.keyboard.press("Enter")
    descending = order(await rows(page))
    known = [v for v in descending if v is not None]
    assert known == sorted(known, reverse=True)
    assert await page.get_attribute('#models th[data-key="p95"]', "aria-sort") == "descending"
    for key in ["model", "source", "status", "p50", "ttft", "tokens", "success", "change"]:
        await page.focus(f'#models th[data-key="{key}"] button')
        await page.keyboard.press("Space")
        assert await page.get_attribute(f'#models th[data-key="{key}"]', "aria-sort") == "ascending"
    await page.click('#models th[data-key="model"] button')
    await page.click('#models th[data-key="model"] button')
    names = [r["model"] for r in await rows(page)]
    assert names == sorted(names, reverse=True)


async def test_the_filter_box_keeps_the_matching_rows(desktop, models_service):
    page = desktop.page
    await load(page, f"{models_service.url}/?time={END}")
    total = len(await rows(page))
    await page.fill("#filter", "GPT")
    visible = [r for r in await rows(page) if not r["hidden"]]
    assert [r["model"] for r in visible] == ["gpt-4o"]
    assert (await page.text_content("#shown")) == f"1 of {total} rows"
    await page.fill("#filter", "vllm")  # the source matches too
    assert {r["source"] for r in await rows(page) if not r["hidden"]} == {"vllm"}
    await page.fill("#filter", "")
    assert not any(r["hidden"] for r in await rows(page))


async def model_page(page, service, model: str, source: str, extra: str = "") -> None:
    url = f"{service.url}/models/?model={model}&source={source}&time={END}{extra}"
    await load(page, url)
    await page.wait_for_selector("#charts figure path.series", state="attached", timeout=30_000)
    await page.wait_for_selector("#distribution svg", timeout=30_000)


async def test_a_row_links_to_its_model_page_with_history(desktop, models_service):
    page = desktop.page
    await load(page, f"{models_service.url}/?time={END}")
    await page.click('#models tr[data-model="llama-3-8b"] a')
    await page.wait_for_selector("#charts figure path.series", state="attached", timeout=30_000)
    query = parse_qs(urlsplit(page.url).query)
    assert urlsplit(page.url).path == "/models/"
    assert query["model"] == ["llama-3-8b"]
    assert query["source"] == ["vllm"]
    assert await page.text_content("#model-title") == "llama-3-8b"
    await page.go_back()
    await page.wait_for_selector("#models tbody tr")
    assert urlsplit(page.url).path == "/"


async def test_a_model_name_with_a_slash_has_its_page(desktop, models_service):
    page = desktop.page
    await load(page, f"{models_service.url}/models/?model=org%2Fnone&source=vllm&time={END}")
    assert await page.text_content("#model-title") == "org/none"
    assert "no answer" in await page.text_content("#model-source")


async def test_the_scorecard_and_a_chart_per_signal_with_the_apis_points(desktop, models_service):
    page = desktop.page
    await model_page(page, models_service, "llama-3-8b", "vllm")
    answer = await api(
        models_service, "/api/models/", time=END, compare="1d", model="llama-3-8b", profile="vllm"
    )
    row = answer["data"][0]
    card = await page.eval_on_selector_all("#scorecard .card", CARDS_JS)
    close(card["Latency p99"], row["latency_ms"]["p99"], 1, "p99")
    close(card["TTFT p95"], row["ttft_ms"]["p95"], 1, "ttft")
    close(card["Output tokens/s"], row["output_tokens_per_second"], 1, "tokens")
    assert card["Status"].lower() == row["status"]
    series = await api(
        models_service, "/api/models/range/", model="llama-3-8b", profile="vllm",
        signals=SIGNALS, duration="1h", step="1m", end=END,
    )  # fmt: skip
    expected = {
        s["signal"]: sum(p["value"] is not None for p in s["data_points"]) for s in series["data"]
    }
    charts = await page.eval_on_selector_all("#charts figure", CHARTS_JS)
    assert {c["signal"] for c in charts} == set(expected) == set(SIGNALS.split(","))
    for chart in charts:
        assert len(chart["lines"]) == 1, chart["signal"]  # one line per signal
        assert chart["lines"][0]["points"] == expected[chart["signal"]], chart["signal"]
        assert chart["lines"][0]["drawn"] == expected[chart["signal"]], chart["signal"]
        assert expected[chart["signal"]] > 20
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "model-page.png"), full_page=True)


async def test_the_window_changes_every_chart_and_stays_in_the_url(desktop, models_service):
    page = desktop.page
    await model_page(page, models_service, "gpt-4o", "litellm")
    await page.click('input[name="window"][value="15m"]')
    await page.wait_for_selector('#charts svg[data-window="15m"]')
    assert parse_qs(urlsplit(page.url).query)["window"] == ["15m"]
    series = await api(
        models_service, "/api/models/range/", model="gpt-4o", profile="litellm",
        signals=SIGNALS, duration="15m", step="15s", end=END,
    )  # fmt: skip
    expected = {
        s["signal"]: sum(p["value"] is not None for p in s["data_points"]) for s in series["data"]
    }
    await page.wait_for_function(
        "n => document.querySelectorAll('#charts svg[data-window=\"15m\"]').length >= n",
        arg=len(expected),
    )
    for chart in await page.eval_on_selector_all("#charts figure", CHARTS_JS):
        assert [line["points"] for line in chart["lines"]] == [expected[chart["signal"]]]


async def test_changing_the_slo_threshold_gives_the_apis_attainment(desktop, models_service):
    page = desktop.page
    await model_page(page, models_service, "llama-3-8b", "vllm")
    histogram = {"metric_name": "vllm:e2e_request_latency_seconds", "model_label": "model_name"}
    share = page.locator("#slo [data-share]")
    for threshold, objective in (("1000", "99"), ("1500", "90"), ("2500", "50")):
        await page.fill("#slo-threshold", threshold)
        await page.fill("#slo-objective", objective)
        await page.press("#slo-objective", "Enter")
        await page.wait_for_selector(f'#slo [data-threshold="{threshold}"]', timeout=15_000)
        slo = await api(
            models_service, "/api/metrics/slo/", **histogram, model="llama-3-8b",
            threshold_ms=threshold, objective=objective, time_range="1h", time=END,
        )  # fmt: skip
        want = slo["data"][0]
        assert float(await share.get_attribute("data-share")) == pytest.approx(
            want["share_under_threshold"]
        )
        assert ("met" if want["met"] else "missed") in await page.text_content("#slo")
        assert parse_qs(urlsplit(page.url).query)["threshold_ms"] == [threshold]


async def test_the_distribution_has_one_bar_per_bucket_and_the_percentiles(desktop, models_service):
    page = desktop.page
    await model_page(page, models_service, "llama-3-8b", "vllm")
    answer = await api(
        models_service, "/api/metrics/distribution/",
        metric_name="vllm:e2e_request_latency_seconds", model_label="model_name",
        model="llama-3-8b", time=END,
    )  # fmt: skip
    buckets = answer["data"][0]["buckets"]
    assert len(buckets) == len(VLLM_LATENCY) + 1  # every bound and +Inf
    bars = await page.eval_on_selector_all(
        "#distribution rect.bar", "bars => bars.map(b => b.dataset.share)"
    )
    assert len(bars) == len(buckets)
    assert [float(s) if s else None for s in bars] == pytest.approx([b["share"] for b in buckets])
    marks = await page.eval_on_selector_all(
        "#distribution g.mark", "gs => gs.map(g => g.dataset.mark)"
    )
    assert marks == ["p50", "p95", "p99"]
    await page.focus("#distribution .chart")
    await page.keyboard.press("End")
    assert "above" in await page.text_content("#distribution .readout")


async def tab_through(page, stops: int) -> list[str]:
    reached = []
    for _ in range(stops):
        await page.keyboard.press("Tab")
        reached.append(
            await page.evaluate(
                """() => {
                const e = document.activeElement;
                return e.id || (e.closest('th') && 'sort:' + e.closest('th').dataset.key)
                    || (e.closest('figure') && 'chart:' + e.closest('figure').dataset.signal)
                    || (e.closest('#distribution') && 'distribution')
                    || (e.name === 'window' && 'window') || e.getAttribute('href') || e.tagName;
            }"""
            )
        )
    return reached


async def test_the_keyboard_reaches_every_control(desktop, models_service):
    page = desktop.page
    await load(page, f"{models_service.url}/?time={END}")
    reached = set(await tab_through(page, 30))
    headers = await page.eval_on_selector_all(
        "#models thead th", "ths => ths.map(th => 'sort:' + th.dataset.key)"
    )
    links = await page.eval_on_selector_all(
        "#models tbody a", "links => links.map(a => a.getAttribute('href'))"
    )
    assert {"filter", *headers, *links} <= reached
    await model_page(page, models_service, "llama-3-8b", "vllm")
    reached = set(await tab_through(page, 30))
    charts = {f"chart:{s}" for s in SIGNALS.split(",")}
    assert {"back", "window", "slo-threshold", "slo-objective", "distribution", *charts} <= reached
    assert "BUTTON" in reached  # Apply
    # The window picker moves with the arrow keys, as radio buttons do.
    await page.focus('input[name="window"]:checked')
    await page.keyboard.press("ArrowRight")
    await page.wait_for_selector('#charts svg[data-window="6h"]', timeout=30_000)


@pytest.mark.parametrize("path", ["/", "/models/?model=llama-3-8b&source=vllm"])
async def test_a_phone_has_no_horizontal_scroll(phone, models_service, path):
    page = phone.page
    joiner = "&" if "?" in path else "?"
    await load(page, f"{models_service.url}{path}{joiner}time={END}")
    if "models" in path:
        await page.wait_for_selector("#charts figure path.series", state="attached", timeout=30_000)
    width = await page.evaluate("window.innerWidth")
    scroll = await page.evaluate("document.scrollingElement.scrollWidth")
    assert width == 390
    assert scroll <= width, "the page scrolls sideways on a phone"
    ARTIFACTS.mkdir(exist_ok=True)
    name = "model-page-phone.png" if "models" in path else "overview-phone.png"
    await page.screenshot(path=str(ARTIFACTS / name), full_page=True)


async def test_a_partial_answer_is_shown_as_such(desktop, models_service):
    """A signal failing while the others answer is rare on a real Prometheus; the service's
    own answer is marked partial here, on its way to the page."""
    page = desktop.page
    note = "vllm ttft: no answer (Prometheus timed out)"

    async def partial(route) -> None:
        response = await route.fetch()
        body = await response.json()
        body.update(partial=True, warnings=[note])
        await route.fulfill(response=response, json=body)

    await page.route("**/api/models/?*", partial)
    await load(page, f"{models_service.url}/?time={END}")
    banner = page.locator("#banner")
    assert await banner.get_attribute("data-kind") == "partial"
    assert note in await banner.text_content()
    answer = await api(models_service, "/api/models/", time=END, compare="1d")
    assert await page.locator("#models tbody tr").count() == answer["count"]  # numbers stay
