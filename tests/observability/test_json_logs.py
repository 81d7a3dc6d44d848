"""``LOG_FORMAT=json`` and request ids, on the real start-up path.

The service runs under uvicorn with ``LOG_FORMAT=json`` in front of a recording stand-in
for Prometheus. Every line it logs must parse as one JSON object; each request's summary
line has its route template, status, duration, cache result and upstream time; the
request id comes from a valid ``X-Request-ID`` (else is generated), is echoed in the
response, reaches the engine, and is on every log line of that request.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from harness.processes import Service, uvicorn_app
from tests.support.fake_prometheus import FakeUpstream, Steady

GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream(data=Steady(), html_status=500) as running:
        yield running


@pytest.fixture(scope="module")
def service(upstream: FakeUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    env = {
        "PROMETHEUS_URL": f"http://127.0.0.1:{upstream.port}",
        "LOG_FORMAT": "json",
        "CACHE_STALE_SECONDS": "0",
        # One TTL slot for the module: two requests in a row never straddle a boundary.
        "CACHE_TTL_SECONDS": "3600",
        "CIRCUIT_FAILURE_THRESHOLD": "1000",
    }
    log = tmp_path_factory.mktemp("json-logs") / "service.log"
    with uvicorn_app(log, env, uvicorn_args=("--log-level", "info")) as running:
        yield running


def log_lines(service: Service) -> list[dict]:
    text = service.log.read_text()
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines, "the service logged nothing"
    parsed = []
    for line in lines:
        record = json.loads(line)  # every line is one JSON object
        assert isinstance(record, dict), line
        assert {"timestamp", "level", "logger", "message", "request_id"} <= set(record), record
        parsed.append(record)
    return parsed


def of_request(service: Service, request_id: str) -> list[dict]:
    """The lines of one request, once its summary line is written (after the answer)."""
    deadline = time.monotonic() + 10
    while True:
        found = [record for record in log_lines(service) if record["request_id"] == request_id]
        if any(r["logger"] == "app.requests" for r in found) or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


async def get(service: Service, path: str, request_id: str | bytes | None = None) -> httpx.Response:
    # bytes too: a header value that is not text, sent as is
    headers: Any = {} if request_id is None else {"X-Request-ID": request_id}
    async with httpx.AsyncClient(base_url=service.url, trust_env=False, timeout=10) as client:
        return await client.get(path, headers=headers)


async def test_a_request_is_one_json_line_with_its_id_route_and_timings(
    service: Service, upstream: FakeUpstream
) -> None:
    path = "/api/metrics/p95/?time_range=7m"
    first = await get(service, path, "req-4711.a")
    again = await get(service, path, "req-4712.b")
    assert [first.status_code, again.status_code] == [200, 200]
    assert first.headers["x-request-id"] == "req-4711.a"
    asked = [r for r in upstream.requests if r.headers.get("x-request-id") == "req-4711.a"]
    assert asked, "the engine was not sent the request id"
    [miss] = [r for r in of_request(service, "req-4711.a") if r["logger"] == "app.requests"]
    assert miss["route"] == "/api/metrics/p95/"
    assert miss["method"] == "GET"
    assert miss["status"] == 200
    assert miss["cache"] == "MISS"
    assert miss["upstream_ms"] > 0
    assert miss["duration_ms"] >= miss["upstream_ms"]
    assert miss["level"] == "INFO"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", miss["timestamp"])
    [hit] = [r for r in of_request(service, "req-4712.b") if r["logger"] == "app.requests"]
    assert hit["cache"] == "HIT"
    assert hit["upstream_ms"] == 0


@pytest.mark.parametrize(
    "bad", [b"has space", b"x" * 129, b"semi;colon", "\u00e9t\u00e9".encode(), b"a/b"]
)
async def test_an_unsafe_request_id_is_replaced_by_a_generated_one(service: Service, bad) -> None:
    response = await get(service, "/health/live", bad)
    assert response.status_code == 200
    given = response.headers["x-request-id"]
    assert GENERATED.fullmatch(given), given
    records = of_request(service, given)
    assert [r["route"] for r in records if r["logger"] == "app.requests"] == ["/health/live"]


async def test_a_request_without_an_id_gets_one(service: Service) -> None:
    response = await get(service, "/api/metrics/p95/?model_label=NaN")
    assert response.status_code == 400
    given = response.headers["x-request-id"]
    assert GENERATED.fullmatch(given)
    [line] = of_request(service, given)
    assert line["status"] == 400


async def test_every_line_of_a_failing_request_carries_its_id(
    service: Service, upstream: FakeUpstream
) -> None:
    upstream.mode = "html"
    try:
        response = await get(service, "/api/metrics/p95/?time_range=9m", "failing-1")
    finally:
        upstream.mode = "ok"
    assert response.status_code == 502
    records = of_request(service, "failing-1")
    loggers = [record["logger"] for record in records]
    assert "app.errors" in loggers, records  # the upstream error's warning
    assert "app.requests" in loggers
    summary = next(r for r in records if r["logger"] == "app.requests")
    assert summary["status"] == 502
    assert summary["upstream_ms"] > 0
    startup = [r for r in log_lines(service) if r["logger"].startswith("uvicorn")]
    assert startup, "uvicorn's own lines are JSON too"
