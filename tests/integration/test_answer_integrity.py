"""An engine answer that contradicts itself is never turned into a silent number.

The fake upstream (a real loopback socket) serves answers no Prometheus gives but a
broken engine, a pair of federated ones or a merging proxy can: the same series twice,
and negative bucket rates. Before, repeats were summed or taken last-wins and a negative
count gave a negative percentile, all with an empty ``warnings``.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from app.settings import Settings
from tests.support.fake_prometheus import FakeUpstream
from tests.support.histograms import expected_quantile

AT = 1700000000
BOUNDS = [0.1, 0.5, 1.0]
# Model "a": cumulative bucket rates 1, 3, 4 and 4 in +Inf; per bucket 1, 2, 1, 0.
A_CUMULATIVE = {"0.1": "1", "0.5": "3", "1": "4", "+Inf": "4"}
A_PER_BUCKET = [1.0, 2.0, 1.0, 0.0]


def rates(model: str, cumulative: dict[str, str]) -> list[dict]:
    return [
        {"metric": {"model": model, "le": le}, "value": [AT, value]}
        for le, value in cumulative.items()
    ]


def vector(result: list[dict]) -> dict:
    return {"status": "success", "data": {"resultType": "vector", "result": result}}


def settings_for(url: str) -> Settings:
    return Settings(prometheus_url=url, cache_ttl_seconds=0, cache_stale_seconds=0)


async def ask(make_client, answer: dict, path: str, **params: str):
    with FakeUpstream(answer=answer) as upstream:
        async with make_client(settings_for(upstream.url)) as client:
            return await client.get(path, params={"time": AT, **params})


def expected_ms(q: float) -> float:
    value = expected_quantile(q, BOUNDS, A_PER_BUCKET)
    assert value is not None
    return value * 1000


PERCENTILES = "/api/metrics/percentiles/"


async def test_a_series_sent_twice_with_the_same_values_is_counted_once_and_said(make_client):
    twice = rates("a", A_CUMULATIVE) + rates("a", A_CUMULATIVE)
    response = await ask(make_client, vector(twice), PERCENTILES, percentiles="50,99")
    assert response.status_code == 200, response.text
    body = response.json()
    [row] = body["data"]
    assert row["percentiles"]["p50"] == pytest.approx(expected_ms(0.5))
    assert row["percentiles"]["p99"] == pytest.approx(expected_ms(0.99))
    assert any("more than once" in warning for warning in body["warnings"]), body["warnings"]


async def test_a_series_sent_twice_with_other_values_is_a_502(make_client):
    other = {**A_CUMULATIVE, "0.5": "2"}
    response = await ask(
        make_client,
        vector(rates("a", A_CUMULATIVE) + rates("a", other)),
        PERCENTILES,
        percentiles="50,99",
    )
    assert response.status_code == 502, response.text
    body = response.json()
    assert body["error"] == "Prometheus sent an answer that contradicts itself"
    assert "le='0.5'" in body["details"]["reason"]
    assert "model='a'" in body["details"]["reason"]


async def test_a_negative_bucket_count_gives_no_percentile_and_a_warning(make_client):
    broken = {"0.1": "-5", "0.5": "-1", "1": "-1", "+Inf": "-1"}
    response = await ask(
        make_client,
        vector(rates("a", A_CUMULATIVE) + rates("b", broken)),
        PERCENTILES,
        percentiles="50,99",
    )
    assert response.status_code == 200, response.text
    body = response.json()
    rows = {row["model"]: row["percentiles"] for row in body["data"]}
    assert rows["b"] == {"p50": None, "p99": None}
    assert rows["a"]["p50"] == pytest.approx(expected_ms(0.5))
    assert any("negative bucket counts for 'b'" in w for w in body["warnings"]), body["warnings"]


async def test_the_engines_own_quantile_sent_twice_differently_is_a_502(make_client):
    """One percentile: the engine's histogram_quantile answer; last-wins before."""
    answer = vector(
        [
            {"metric": {"model": "a"}, "value": [AT, "0.25"]},
            {"metric": {"model": "a"}, "value": [AT, "0.75"]},
        ]
    )
    response = await ask(make_client, answer, "/api/metrics/p95/")
    assert response.status_code == 502, response.text
    assert "came twice" in response.json()["details"]["reason"]


async def test_a_range_series_sent_twice_differently_is_a_502(make_client):
    series: dict[str, Any] = {"metric": {"model": "a"}, "values": [[AT - 60, "0.2"], [AT, "0.3"]]}
    changed = copy.deepcopy(series)
    changed["values"][1][1] = "0.9"
    answer = {"status": "success", "data": {"resultType": "matrix", "result": [series, changed]}}
    with FakeUpstream(answer=answer) as upstream:
        async with make_client(settings_for(upstream.url)) as client:
            response = await client.get(
                "/api/metrics/p95/range/", params={"start": AT - 60, "end": AT, "step": "60s"}
            )
    assert response.status_code == 502, response.text
    assert "different points" in response.json()["details"]["reason"]


async def test_a_range_series_sent_twice_alike_is_one_series_and_said(make_client):
    series = {"metric": {"model": "a"}, "values": [[AT - 60, "0.2"], [AT, "0.3"]]}
    answer = {"status": "success", "data": {"resultType": "matrix", "result": [series, series]}}
    with FakeUpstream(answer=answer) as upstream:
        async with make_client(settings_for(upstream.url)) as client:
            response = await client.get(
                "/api/metrics/p95/range/", params={"start": AT - 60, "end": AT, "step": "60s"}
            )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [row["model"] for row in body["data"]] == ["a"]
    assert [p["p95_latency_ms"] for p in body["data"][0]["data_points"]] == [200.0, 300.0]
    assert any("more than once" in warning for warning in body["warnings"]), body["warnings"]
