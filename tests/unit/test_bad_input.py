"""Every kind of bad input gets the one 400 shape, naming every bad parameter in words.

{"status": "error", "error": "Invalid parameters: a, b",
 "details": {"errors": [{"parameter": "a", "message": "... such as ...", "value": "..."}]}}

No bad input reaches the upstream: the fake below fails the test if it is asked anything.
"""

from __future__ import annotations

import re

import httpx
import pytest

from app.settings import Settings
from tests.support.fake_prometheus import is_kind_probe

URL = "http://prometheus.test"
REGEX_HINTS = re.compile(r"\[[a-zA-Z]-|\\d|\^|\$|\(\?")


def never(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"bad input reached the upstream: {request.url}")


async def bad(make_client, path: str, query: str) -> dict:
    async with make_client(Settings(prometheus_url=URL), httpx.MockTransport(never)) as client:
        response = await client.get(f"{path}?{query}")
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body) == {"status", "error", "details"}
    assert body["status"] == "error"
    assert set(body["details"]) == {"errors"}
    for error in body["details"]["errors"]:
        assert set(error) <= {"parameter", "message", "value"}
        assert "such as" in error["message"] or "before" in error["message"], error
        assert not REGEX_HINTS.search(error["message"]), error  # words, not a pattern
    named = sorted({e["parameter"] for e in body["details"]["errors"]})
    assert body["error"].endswith(": " + ", ".join(named))
    return body


def parameters(body: dict) -> list[str]:
    return sorted(e["parameter"] for e in body["details"]["errors"])


CASES = [
    ("/api/metrics/p95/", "time_range=5 minutes", ["time_range"], "5 minutes"),
    ("/api/metrics/p95/", "time_range=0s", ["time_range"], "0s"),
    ("/api/metrics/p95/", "time_range=%D9%A5m", ["time_range"], "\u0665m"),
    ("/api/metrics/p95/", "metric_name=a-b", ["metric_name"], "a-b"),
    ("/api/metrics/p95/", "model_label=le", ["model_label"], "le"),
    ("/api/metrics/p95/", "model=%ff", ["model"], "\ufffd"),
    ("/api/metrics/p95/", "model=%c0%af", ["model"], "\ufffd\ufffd"),
    ("/api/metrics/p95/", "model=%ed%a0%80", ["model"], "\ufffd\ufffd\ufffd"),
    ("/api/metrics/p95/", "model=" + "x" * 201, ["model"], "x" * 200),
    ("/api/metrics/p95/", "time=1_700_000_000", ["time"], "1_700_000_000"),
    ("/api/metrics/p95/", "time=tomorrow", ["time"], "tomorrow"),
    ("/api/metrics/p95/", "prometheus_url=ftp://x", ["prometheus_url"], "ftp://x"),
    ("/api/metrics/percentiles/", "percentiles=100", ["percentiles"], "100"),
    ("/api/metrics/percentiles/", "percentiles=1e1", ["percentiles"], "1e1"),
    ("/api/metrics/p95/range/", "step=%D9%A1s", ["step"], "\u0661s"),
    ("/api/metrics/p95/range/", "duration=31d&step=1s", ["step"], None),
    ("/api/metrics/p95/range/", "end=1", ["end"], None),
    ("/api/metrics/p95/range/", "start=10&end=5", ["start"], None),
    ("/api/metrics/history/", "hours=1e-300", ["hours"], "1e-300"),
    ("/api/metrics/history/", "hours=nan", ["hours"], "nan"),
    ("/api/metrics/history/", "hours=745", ["hours"], "745"),
]


@pytest.mark.parametrize(("path", "query", "named", "value"), CASES)
async def test_each_kind_of_bad_input_names_its_parameter(make_client, path, query, named, value):
    body = await bad(make_client, path, query)
    assert parameters(body) == named
    if value is not None:
        assert body["details"]["errors"][0]["value"] == value


async def test_several_bad_parameters_are_named_at_once(make_client):
    body = await bad(
        make_client,
        "/api/metrics/percentiles/",
        "percentiles=100&metric_name=a-b&time_range=0s&model_label=1x",
    )
    assert parameters(body) == ["metric_name", "model_label", "percentiles", "time_range"]
    assert body["error"] == "Invalid parameters: metric_name, model_label, percentiles, time_range"
    by_name = {e["parameter"]: e for e in body["details"]["errors"]}
    assert by_name["percentiles"] == {
        "parameter": "percentiles",
        "message": "each percentile must be a number strictly between 0 and 100, such as 99.9",
        "value": "100",
    }


async def test_a_disallowed_prometheus_url_has_the_same_shape(make_client):
    body = await bad(make_client, "/api/metrics/p95/", "prometheus_url=http://169.254.169.254")
    assert parameters(body) == ["prometheus_url"]


async def test_unknown_parameters_are_ignored_and_not_part_of_the_key(make_client):
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if not is_kind_probe(request):
            calls.append(str(request.url))
        data = {"resultType": "vector", "result": []}
        return httpx.Response(200, json={"status": "success", "data": data})

    settings = Settings(prometheus_url=URL, cache_ttl_seconds=600)
    async with make_client(settings, httpx.MockTransport(answer)) as client:
        answers = [
            await client.get(f"/api/metrics/p95/?time=1700000000&x={i}&_={i}") for i in range(20)
        ]
    assert [a.status_code for a in answers] == [200] * 20
    assert [a.headers["x-cache"] for a in answers] == ["MISS"] + ["HIT"] * 19
    assert len(calls) == 1


async def test_the_percentile_key_is_the_number_as_asked(make_client):
    def answer(_request: httpx.Request) -> httpx.Response:
        data = {"resultType": "vector", "result": []}
        return httpx.Response(200, json={"status": "success", "data": data})

    async with make_client(Settings(prometheus_url=URL), httpx.MockTransport(answer)) as client:
        small = await client.get("/api/metrics/percentiles/?percentiles=0.0000001,99.99999999999")
    assert small.status_code == 200
