"""/api/metrics/distribution/ and its range against a real Prometheus.

Every expected number is Prometheus's own arithmetic on the same data, asked here.
"""

from __future__ import annotations

import math

import httpx
import pytest

from app.promql import tables
from app.services import distribution as distribution_service
from app.settings import Settings
from tests.conftest import backfilled_prometheus
from tests.slo.promql import ask, ask_one
from tests.support import layouts
from tests.support.dataset import END
from tests.support.relay import Relay

pytestmark = pytest.mark.prometheus
REL = 1e-9
SECONDS = "request_duration_seconds"


@pytest.fixture(scope="module")
def layout_prometheus(tmp_path_factory):
    yield from backfilled_prometheus(tmp_path_factory, "layouts", layouts.openmetrics())


async def distribution(make_client, url: str, at: float, relay=None, **params) -> dict:
    settings = Settings(prometheus_url=url, cache_ttl_seconds=0)
    async with make_client(settings, transport=relay) as client:
        response = await client.get("/api/metrics/distribution/", params={"time": at, **params})
    assert response.status_code == 200, response.text
    return response.json()


def by_model(body: dict) -> dict[str, dict]:
    return {row["model"]: row for row in body["data"]}


def bucket_rate(url: str, model: str, le_regex: str, at: float) -> float:
    return ask_one(
        url,
        f'sum(rate({layouts.METRIC}_bucket{{model="{model}",le=~"{le_regex}"}}[5m]))',
        at,
    )


async def test_one_and_one_point_zero_are_one_bucket(layout_prometheus, make_client):
    url, at = layout_prometheus.url, layouts.END
    body = await distribution(make_client, url, at, metric_name=layouts.METRIC)
    spelled = by_model(body)["spelled"]
    assert [b["le_ms"] for b in spelled["buckets"]] == [100, 500, 1000, None]
    assert [b["lower_ms"] for b in spelled["buckets"]] == [0, 100, 500, 1000]
    one = spelled["buckets"][2]["per_second"]
    expected = bucket_rate(url, "spelled", layouts.ONE, at) - bucket_rate(
        url, "spelled", layouts.HALF, at
    )
    assert one == pytest.approx(expected, rel=REL)
    assert not any("spelled" in w for w in body["warnings"])


async def test_buckets_add_up_to_prometheus_own_rate_of_the_count(layout_prometheus, make_client):
    url, at = layout_prometheus.url, layouts.END
    body = await distribution(make_client, url, at, metric_name=layouts.METRIC)
    counted = ask(url, f"sum by (model) (rate({layouts.METRIC}_count[5m]))", at)
    for model, row in by_model(body).items():
        rates = [b["per_second"] for b in row["buckets"]]
        assert sum(rates) == pytest.approx(counted[model], rel=REL)
        assert row["per_second"] == pytest.approx(counted[model], rel=REL)
        shares = [b["share"] for b in row["buckets"]]
        assert shares == pytest.approx([r / counted[model] for r in rates], rel=REL)
        assert row["buckets"][-1]["cumulative_share"] == pytest.approx(1.0, rel=REL)


async def test_differing_layouts_are_answered_on_the_union_with_a_warning(
    layout_prometheus, make_client
):
    url, at = layout_prometheus.url, layouts.END
    body = await distribution(make_client, url, at, metric_name=layouts.METRIC)
    mixed = by_model(body)["mixed"]
    assert [b["le_ms"] for b in mixed["buckets"]] == [100, 250, 500, None]
    assert [w for w in body["warnings"] if "union" in w and "mixed" in w]
    assert all(b["per_second"] >= 0 for b in mixed["buckets"])


async def test_even_layouts_cost_one_query(prometheus, make_client):
    relay = Relay()
    body = await distribution(make_client, prometheus.url, END, relay)
    assert body["data"]
    assert not [w for w in body["warnings"] if "union" in w]
    (asked,) = relay.queries()
    assert asked.count("count_over_time") == 1


async def test_only_suspects_have_their_samples_counted(layout_prometheus, make_client):
    relay = Relay()
    body = await distribution(
        make_client, layout_prometheus.url, layouts.END, relay, metric_name=layouts.METRIC
    )
    first, counted = relay.queries()
    assert "count_values" in first
    assert f'{layouts.METRIC}_bucket{{model=~"mixed|spelled"}}' in counted
    (warning,) = [w for w in body["warnings"] if "union" in w]
    assert "mixed" in warning
    assert "spelled" not in warning


async def test_many_suspects_are_counted_in_one_query_of_every_model(
    layout_prometheus, make_client, monkeypatch
):
    monkeypatch.setattr(distribution_service, "MAX_ASKED", 1)
    relay = Relay()
    body = await distribution(
        make_client, layout_prometheus.url, layouts.END, relay, metric_name=layouts.METRIC
    )
    _, counted = relay.queries()
    assert f"count_over_time({layouts.METRIC}_bucket{{}}[5m])" in counted
    (warning,) = [w for w in body["warnings"] if "union" in w]
    assert "mixed" in warning
    assert "spelled" not in warning


async def test_a_failing_count_leaves_the_rows_and_says_so(layout_prometheus, make_client):
    relay = Relay(fail_when="_bucket{model=~")
    body = await distribution(
        make_client, layout_prometheus.url, layouts.END, relay, metric_name=layouts.METRIC
    )
    assert relay.refused == 1
    assert set(by_model(body)) == {"mixed", "spelled"}
    assert body["partial"] is True
    assert [w for w in body["warnings"] if "2 model(s) were not checked" in w]
    assert not [w for w in body["warnings"] if "union" in w]


async def test_standard_buckets_are_sorted_and_match_prometheus(prometheus, make_client):
    body = await distribution(make_client, prometheus.url, END, model="gpt-4")
    (row,) = body["data"]
    bounds = [b["le_ms"] for b in row["buckets"]]
    assert bounds[-1] is None
    assert bounds[:-1] == sorted(bounds[:-1])
    promql = f'sum by (le) (rate({SECONDS}_bucket{{model="gpt-4"}}[5m]))'
    rates = ask(prometheus.url, promql, END, label="le")
    cumulative = sorted((float(le), value) for le, value in rates.items())
    below = 0.0
    for bucket, (bound, total) in zip(row["buckets"], cumulative, strict=True):
        assert bucket["le_ms"] == (None if math.isinf(bound) else pytest.approx(bound * 1000))
        assert bucket["per_second"] == pytest.approx(total - below, rel=REL, abs=1e-12)
        below = total


async def test_the_range_gives_the_buckets_at_each_step(prometheus, make_client):
    settings = Settings(prometheus_url=prometheus.url, cache_ttl_seconds=0)
    params = {"model": "llama-3", "duration": "1h", "step": "10m", "end": END}
    async with make_client(settings) as client:
        response = await client.get("/api/metrics/distribution/range/", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    (row,) = body["data"]
    assert len(row["points"]) == 7
    for point in row["points"]:
        counted = ask_one(
            prometheus.url, f'sum(rate({SECONDS}_count{{model="llama-3"}}[5m]))', point["timestamp"]
        )
        assert sum(b["per_second"] for b in point["buckets"]) == pytest.approx(counted, rel=REL)


async def test_the_range_is_bounded_by_max_response_points(prometheus, make_client):
    settings = Settings(prometheus_url=prometheus.url, max_response_points=1000)
    params = {"duration": "3h", "step": "15s", "end": END}
    async with make_client(settings) as client:
        response = await client.get("/api/metrics/distribution/range/", params=params)
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "error"
    assert [e["parameter"] for e in body["details"]["errors"]] == ["step"]
    assert "MAX_RESPONSE_POINTS" in body["details"]["errors"][0]["message"]


async def test_the_range_merges_spellings_and_warns_of_differing_layouts(
    layout_prometheus, make_client
):
    url, end = layout_prometheus.url, layouts.END
    settings = Settings(prometheus_url=url, cache_ttl_seconds=0)
    params = {"metric_name": layouts.METRIC, "duration": "20m", "step": "5m", "end": end}
    async with make_client(settings) as client:
        response = await client.get("/api/metrics/distribution/range/", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    rows = by_model(body)
    for point in rows["spelled"]["points"]:
        assert [b["le_ms"] for b in point["buckets"]] == [100, 500, 1000, None]
        at = point["timestamp"]
        one = bucket_rate(url, "spelled", layouts.ONE, at) - bucket_rate(
            url, "spelled", layouts.HALF, at
        )
        assert point["buckets"][2]["per_second"] == pytest.approx(one, rel=REL)
    for point in rows["mixed"]["points"]:
        assert [b["le_ms"] for b in point["buckets"]] == [100, 250, 500, None]
    assert len(rows["mixed"]["points"]) == 5
    warned = [w for w in body["warnings"] if "union" in w]
    (warning,) = warned
    assert "mixed" in warning
    assert "spelled" not in warning


class RangeQueries(httpx.AsyncHTTPTransport):
    """The real transport, noting the start and end of each range query."""

    def __init__(self) -> None:
        super().__init__()
        self.ranges: list[tuple[float, float]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/api/v1/query_range"):
            form = httpx.QueryParams(request.read().decode())
            self.ranges.append((float(form["start"]), float(form["end"])))
        return await super().handle_async_request(request)


async def test_the_range_asks_only_for_new_steps(prometheus, make_client):
    transport = RangeQueries()
    settings = Settings(prometheus_url=prometheus.url, cache_ttl_seconds=0)
    end = END - 1800  # settled
    path = "/api/metrics/distribution/range/?duration=1h&step=5m&model=gpt-4&end="
    async with make_client(settings, transport) as client:
        first = await client.get(f"{path}{end}")
        again = await client.get(f"{path}{end}")
        later = await client.get(f"{path}{end + 300}")
    assert transport.ranges == [(end - 3600, end), (end + 300, end + 300)]
    assert first.json()["data"] == again.json()["data"]
    assert later.json()["data"][0]["points"][:-1] == first.json()["data"][0]["points"][1:]


async def test_an_slo_threshold_matches_every_spelling_of_its_bound(layout_prometheus, make_client):
    url, at = layout_prometheus.url, layouts.END
    settings = Settings(prometheus_url=url, cache_ttl_seconds=0)
    params = {"metric_name": layouts.METRIC, "threshold_ms": "500", "time_range": "5m", "time": at}
    async with make_client(settings) as client:
        response = await client.get("/api/metrics/slo/", params=params)
    assert response.status_code == 200, response.text
    spelled = by_model(response.json())["spelled"]
    ratio = ask_one(
        url,
        f'sum(rate({layouts.METRIC}_bucket{{model="spelled",le=~"{layouts.HALF}"}}[5m]))'
        f' / sum(rate({layouts.METRIC}_count{{model="spelled"}}[5m]))',
        at,
    )
    assert spelled["exact"] is True
    assert spelled["share_under_threshold"] == pytest.approx(ratio, rel=REL)


@pytest.mark.parametrize(
    ("dataset", "at", "metric"),
    [("prometheus", END, SECONDS), ("layout_prometheus", layouts.END, layouts.METRIC)],
)
async def test_tables_answer_as_one_model_at_a_time(
    dataset, at, metric, request, make_client, monkeypatch
):
    """Every model's buckets computed as tables (``TABLE_MIN`` 1) are the ones computed one
    model at a time, which the tests above check against Prometheus."""
    url = request.getfixturevalue(dataset).url
    monkeypatch.setattr(tables, "TABLE_MIN", 10**9)
    one_at_a_time = await distribution(make_client, url, at, metric_name=metric)
    tabled: list[str] = []

    def counted(groups):
        found, rest = tables.tables(groups)
        tabled.extend(name for table in found for name in table.names)
        return found, rest

    monkeypatch.setattr(tables, "TABLE_MIN", 1)
    monkeypatch.setattr(distribution_service, "tables", counted)
    body = await distribution(make_client, url, at, metric_name=metric)
    assert tabled
    assert one_at_a_time["data"]
    assert body["data"] == one_at_a_time["data"]
    assert body["warnings"] == one_at_a_time["warnings"]
