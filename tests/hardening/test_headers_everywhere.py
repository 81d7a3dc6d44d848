"""Every answer carries the same security headers, and every error the one JSON shape.

Tried as the review did, with CORS on: an allowed and a refused preflight were plain
text without ``nosniff`` or ``no-store`` (the refusal not in the error shape), and a
cached answer to a browser said ``Vary: Origin, Origin``.
"""

from __future__ import annotations

import httpx
import pytest

from app.settings import Settings
from tests.support.dataset import END

ORIGIN = "https://status.example"
EVIL = "https://evil.example"


def settings_for(prometheus) -> Settings:
    # One TTL slot: a request and its repeat never straddle a boundary.
    return Settings(
        prometheus_url=prometheus.url, cors_allowed_origins=ORIGIN, cache_ttl_seconds=3600
    )


def assert_secured(response: httpx.Response) -> None:
    where = f"{response.request.method} {response.request.url}: {response.status_code}"
    assert response.headers.get_list("x-content-type-options") == ["nosniff"], where
    controls = response.headers.get_list("cache-control")
    assert len(controls) == 1, (where, controls)
    if response.status_code != 200 or response.request.method == "OPTIONS":
        assert controls == ["no-store"], (where, controls)
    for name in ("vary",):
        values = [v.strip().lower() for h in response.headers.get_list(name) for v in h.split(",")]
        assert len(values) == len(set(values)), (where, response.headers.get_list(name))


def assert_error_shape(response: httpx.Response) -> dict:
    assert response.headers["content-type"].startswith("application/json"), response.text
    body = response.json()
    assert set(body) == {"status", "error", "details"}
    assert body["status"] == "error"
    assert isinstance(body["error"], str)
    assert body["error"]
    return body


def preflight(origin: str, method: str = "GET") -> dict[str, str]:
    return {"Origin": origin, "Access-Control-Request-Method": method}


async def test_an_allowed_preflight_carries_the_security_headers(prometheus, make_client):
    async with make_client(settings_for(prometheus)) as client:
        response = await client.options("/api/metrics/p95/", headers=preflight(ORIGIN))
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert_secured(response)


@pytest.mark.parametrize(
    ("headers", "refused"),
    [
        (preflight(EVIL), ["origin"]),
        (preflight(ORIGIN, "DELETE"), ["method"]),
        (preflight(EVIL, "POST"), ["origin", "method"]),
    ],
)
async def test_a_refused_preflight_is_the_one_error_shape(
    prometheus, make_client, headers, refused
):
    async with make_client(settings_for(prometheus)) as client:
        response = await client.options("/api/metrics/p95/", headers=headers)
    assert response.status_code == 400
    assert_secured(response)
    body = assert_error_shape(response)
    assert body["details"] == {"refused": refused}
    assert "CORS preflight refused" in body["error"]


async def test_a_cached_answer_to_a_browser_lists_each_vary_value_once(prometheus, make_client):
    async with make_client(settings_for(prometheus)) as client:
        miss = await client.get(
            "/api/metrics/p95/", params={"time": END}, headers={"Origin": ORIGIN}
        )
        hit = await client.get(
            "/api/metrics/p95/", params={"time": END}, headers={"Origin": ORIGIN}
        )
    assert [miss.status_code, hit.status_code] == [200, 200]
    assert hit.headers["x-cache"] == "HIT"
    for response in (miss, hit):
        assert response.headers["vary"] == "Origin"
        assert response.headers["access-control-allow-origin"] == ORIGIN
        assert_secured(response)


ERRORS = [
    ("GET", "/no/such/page", 404),
    ("POST", "/api/metrics/p95/", 405),
    ("DELETE", "/health/live", 405),
    ("GET", "/api/metrics/p95/?model_label=NaN", 400),
    ("GET", "/api/metrics/p95/?model=%ff", 400),
    ("GET", "/health/metrics", 404),
    ("OPTIONS", "/api/metrics/p95/", 405),  # no preflight headers: not CORS
]


@pytest.mark.parametrize(("method", "path", "status"), ERRORS)
async def test_framework_errors_are_secured_and_in_the_error_shape(
    prometheus, make_client, method, path, status
):
    async with make_client(settings_for(prometheus)) as client:
        response = await client.request(method, path, headers={"Origin": ORIGIN})
    assert response.status_code == status, response.text
    assert_secured(response)
    assert_error_shape(response)


@pytest.mark.parametrize(
    "path", ["/", "/health/live", "/metrics", "/openapi.json", "/docs", "/static/status.js"]
)
async def test_other_answers_carry_the_security_headers(prometheus, make_client, path):
    async with make_client(settings_for(prometheus)) as client:
        response = await client.get(path, headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert_secured(response)
