"""How each upstream failure reaches the client; faked with httpx.MockTransport."""

from __future__ import annotations

import asyncio
import math

import httpx
import pytest

from app.errors import UpstreamBadResponse, UpstreamTimeout, UpstreamUnavailable
from app.promql.client import PrometheusClient

URL = "http://prometheus.test"


def client_for(handler) -> PrometheusClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return PrometheusClient(http, URL)


def vector(*samples: tuple[dict[str, str], str]) -> dict[str, object]:
    result = [{"metric": m, "value": [1700000000, v]} for m, v in samples]
    return {"status": "success", "data": {"resultType": "vector", "result": result}}


async def test_vector_values_and_non_finite_become_none():
    body = vector(({"model": "a"}, "0.25"), ({"model": "b"}, "NaN"), ({"model": "c"}, "+Inf"))
    prom = client_for(lambda _: httpx.Response(200, json=body))
    result = await prom.query("q", at=1)
    assert [(s.labels["model"], s.value) for s in result.items] == [
        ("a", 0.25),
        ("b", None),
        ("c", None),
    ]


async def test_query_is_sent_as_form_data_with_time():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=vector())

    await client_for(handler).query('up{a="b"}', at=1700000000.5)
    form = dict(httpx.QueryParams(seen[0].content.decode()))
    assert seen[0].url.path == "/api/v1/query"
    assert form == {"query": 'up{a="b"}', "time": "1700000000.500"}


@pytest.mark.parametrize(
    ("handler", "error"),
    [
        (lambda _: (_ for _ in ()).throw(httpx.ConnectError("refused")), UpstreamUnavailable),
        (lambda _: (_ for _ in ()).throw(httpx.ReadTimeout("slow")), UpstreamTimeout),
        (lambda _: (_ for _ in ()).throw(httpx.RemoteProtocolError("reset")), UpstreamUnavailable),
        (lambda _: httpx.Response(200, text="<html>proxy</html>"), UpstreamBadResponse),
        (lambda _: httpx.Response(200, text='{"status": "succ'), UpstreamBadResponse),
        (lambda _: httpx.Response(502, text="Bad Gateway"), UpstreamBadResponse),
        (
            lambda _: httpx.Response(
                400, json={"status": "error", "errorType": "bad_data", "error": "parse error"}
            ),
            UpstreamBadResponse,
        ),
        (
            lambda _: httpx.Response(
                503, json={"status": "error", "errorType": "timeout", "error": "query timed out"}
            ),
            UpstreamTimeout,
        ),
        (
            lambda _: httpx.Response(
                200, json={"status": "success", "data": {"resultType": "matrix", "result": []}}
            ),
            UpstreamBadResponse,
        ),
        (lambda _: httpx.Response(200, json={"status": "success"}), UpstreamBadResponse),
        (lambda _: httpx.Response(200, json=[1, 2]), UpstreamBadResponse),
        (
            lambda _: httpx.Response(200, json=vector(({"model": "a"}, "fast"))),
            UpstreamBadResponse,
        ),
    ],
)
async def test_failures_map_to_the_error_tree(handler, error):
    with pytest.raises(error) as info:
        await client_for(handler).query("q", at=1)
    assert info.value.details["upstream"] == URL


async def test_warnings_are_passed_on():
    body = {**vector(), "warnings": ["results truncated"]}
    result = await client_for(lambda _: httpx.Response(200, json=body)).query("q", at=1)
    assert result.warnings == ["results truncated"]


async def test_observer_hears_each_outcome():
    heard: list[str] = []
    http = httpx.AsyncClient(
        transport=httpx.MockTransport(lambda _: httpx.Response(200, json=vector()))
    )
    prom = PrometheusClient(http, URL, observer=lambda outcome, _: heard.append(outcome))
    await prom.query("q", at=1)
    failing = PrometheusClient(
        httpx.AsyncClient(
            transport=httpx.MockTransport(lambda _: (_ for _ in ()).throw(httpx.ConnectError("x")))
        ),
        URL,
        observer=lambda outcome, _: heard.append(outcome),
    )
    with pytest.raises(UpstreamUnavailable):
        await failing.query("q", at=1)
    assert heard == ["success", "unreachable"]


async def test_in_flight_queries_are_bounded():
    release = asyncio.Event()
    active = 0
    peak = 0

    async def handler(_request: httpx.Request) -> httpx.Response:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await release.wait()
        active -= 1
        return httpx.Response(200, json=vector())

    prom = PrometheusClient(
        httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        URL,
        semaphore=asyncio.Semaphore(3),
    )
    tasks = [asyncio.create_task(prom.query("q", at=i)) for i in range(10)]
    await asyncio.sleep(0.05)
    assert peak == 3
    release.set()
    await asyncio.gather(*tasks)
    assert peak == 3


@pytest.mark.parametrize("value", [None, True, [1], {"a": 1}, "fast", "1e999"])
async def test_a_value_that_is_no_number_is_a_bad_answer(value):
    body = {
        "status": "success",
        "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1, value]}]},
    }
    with pytest.raises(UpstreamBadResponse):
        await client_for(lambda _: httpx.Response(200, json=body)).query("q", at=1)


async def test_signed_infinities_are_numbers_and_label_texts_stay_as_sent():
    """Prometheus writes "+Inf": a value, a native bucket's bound, never a label's text."""
    native = {"count": "3", "sum": "1", "buckets": [[0, "1", "+Inf", "3"]]}
    result = [
        {"metric": {"le": "+Inf", "model": "a"}, "value": [1, "+Inf"]},
        {"metric": {"model": "b"}, "histogram": [1, native]},
        {"metric": {"model": "c"}, "value": [1, "-Inf"]},
    ]
    body = {"status": "success", "data": {"resultType": "vector", "result": result}}
    items = (await client_for(lambda _: httpx.Response(200, json=body)).query("q", at=1)).items
    assert items[0].labels == {"le": "+Inf", "model": "a"}
    assert items[0].point == (1.0, math.inf)
    assert items[0].value is None
    assert items[1].histogram is not None
    assert items[1].histogram.buckets == [(0, 1.0, math.inf, 3.0)]
    assert items[2].point == (1.0, -math.inf)
