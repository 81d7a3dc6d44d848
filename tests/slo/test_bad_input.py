"""Bad SLO, Apdex and compare parameters: each a 400 in the one shape, naming the parameter.

No bad input reaches the upstream: the transport below fails the test if it is asked.
"""

from __future__ import annotations

import httpx
import pytest

from app.settings import Settings

URL = "http://prometheus.test"


def never(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"bad input reached the upstream: {request.url}")


async def rejected(make_client, path: str, query: str) -> list[str]:
    async with make_client(Settings(prometheus_url=URL), httpx.MockTransport(never)) as client:
        response = await client.get(f"{path}?{query}")
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body) == {"status", "error", "details"}
    assert body["status"] == "error"
    named = sorted({e["parameter"] for e in body["details"]["errors"]})
    assert body["error"].endswith(": " + ", ".join(named))
    return named


SLO = "/api/metrics/slo/"
CASES = [
    (SLO, "", "threshold_ms"),
    (SLO, "objective=99", "threshold_ms"),
    (SLO, "threshold_ms=0", "threshold_ms"),
    (SLO, "threshold_ms=-5", "threshold_ms"),
    (SLO, "threshold_ms=NaN", "threshold_ms"),
    (SLO, "threshold_ms=nan", "threshold_ms"),
    (SLO, "threshold_ms=inf", "threshold_ms"),
    (SLO, "threshold_ms=fast", "threshold_ms"),
    (SLO, "threshold_ms=", "threshold_ms"),
    (SLO, "threshold_ms=1e400", "threshold_ms"),
    (SLO, "threshold_ms=500&objective=0", "objective"),
    (SLO, "threshold_ms=500&objective=-1", "objective"),
    (SLO, "threshold_ms=500&objective=100.01", "objective"),
    (SLO, "threshold_ms=500&objective=NaN", "objective"),
    (SLO, "threshold_ms=500&objective=high", "objective"),
    (SLO, "threshold_ms=500&apdex_t_ms=0", "apdex_t_ms"),
    (SLO, "threshold_ms=500&apdex_t_ms=-100", "apdex_t_ms"),
    (SLO, "threshold_ms=500&apdex_t_ms=x", "apdex_t_ms"),
    (SLO, "threshold_ms=500&compare=31d", "compare"),
    (SLO, "threshold_ms=500&compare=yesterday", "compare"),
    ("/api/metrics/", "compare=31d", "compare"),
    ("/api/metrics/p95/", "compare=0s", "compare"),
    ("/api/metrics/p95/", "compare=-1d", "compare"),
    ("/api/metrics/percentiles/", "compare=1 day", "compare"),
]


@pytest.mark.parametrize(("path", "query", "parameter"), CASES)
async def test_each_bad_value_is_a_400_naming_its_parameter(make_client, path, query, parameter):
    assert await rejected(make_client, path, query) == [parameter]


async def test_every_bad_parameter_is_named_at_once(make_client):
    named = await rejected(make_client, SLO, "threshold_ms=0&objective=101&apdex_t_ms=-1")
    assert named == ["apdex_t_ms", "objective", "threshold_ms"]
