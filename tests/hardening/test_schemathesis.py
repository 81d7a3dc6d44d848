"""Schemathesis against the service's own OpenAPI schema, in-process, upstream faked.

For every operation the schema declares, valid and invalid query strings are
generated (coverage phase: boundary values of every bound; fuzzing phase:
random ones; both in positive and negative mode) and each answer must be:

- 200, 400, 404 or 405: the fake upstream never fails, so the documented upstream
  errors (502/503/504, tested in tests/integration/test_faults.py) would here mean the
  service rejected a good answer, and a 500 is never acceptable;
- declared for that operation, with a body matching the declared schema;
- for input the schema declares invalid (too long, too many, out of range,
  not matching a pattern): a 400;
- for every error: the JSON error body ``{"status":"error","error":...,"details":{...}}``.

The fake Prometheus (tests/support/fake_prometheus/) always answers well, so any 5xx here
is the service's own doing; examples are derandomized so CI sees the same cases.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core.result import Ok
from schemathesis.python import asgi

from app.factory import create_app
from app.settings import Settings
from tests.support.fake_prometheus import FakePrometheus, Steady

# 405 is the framework's answer to a method other than GET (the coverage phase sends
# TRACE, PUT, ...); it too must carry the error body.
EXPECTED_STATUSES = frozenset({200, 400, 404, 405})
MAX_EXAMPLES = 100  # per operation, both modes: ~1,160 cases, ~15 s on two cores

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20_240_601,
        # A valid stream case hangs up after the first event (the `retry:` hint): its status,
        # headers and content type are settled by then, and what the events carry is
        # tests/integration/test_stream.py's business. Unbounded, every valid case read
        # events until the client's timeout.
        "max-stream-events": 1,
        # Also in @settings below: Hypothesis's `ci` profile (CI=true) must not change them.
        "generation": {"mode": "all", "deterministic": True, "max-examples": MAX_EXAMPLES},
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": False},  # no links between operations: nothing to chain
        },
        "checks": {
            # Invalid parameters answer 400, never FastAPI's 422 or a 404.
            "negative_data_rejection": {"expected-statuses": ["400"]},
        },
    }
)


def build_app() -> Any:
    service = Settings(prometheus_url="http://prometheus.test", cache_ttl_seconds=0)
    return create_app(service, upstream_transport=httpx.MockTransport(FakePrometheus().answer))


APP = build_app()
# `/metrics` is the Prometheus text format, not JSON: promtool checks it in
# tests/observability/test_exposition.py. `/`, `/docs` and `/redoc` are HTML pages and
# are not in the schema at all.
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG).exclude(
    path="/metrics"
)


def error_shape_problems(body: object) -> list[str]:
    """Why ``body`` is not the service's JSON error body (empty when it is)."""
    if not isinstance(body, dict):
        return [f"not a JSON object: {body!r:.200}"]
    problems = []
    if body.get("status") != "error":
        problems.append(f"status is {body.get('status')!r}, not 'error'")
    if not isinstance(body.get("error"), str) or not body["error"]:
        problems.append("error is not a non-empty string")
    if not isinstance(body.get("details"), dict):
        problems.append("details is not an object")
    return problems


def documented_answer(
    ctx: Any,  # noqa: ARG001 (schemathesis calls every check with these three)
    response: schemathesis.Response,
    case: schemathesis.Case,  # noqa: ARG001
) -> None:
    """Only expected statuses, and every error in the service's error shape."""
    assert response.status_code in EXPECTED_STATUSES, (
        f"undocumented status {response.status_code}: {response.text[:500]}"
    )
    if response.status_code >= 400:
        problems = error_shape_problems(response.json())
        assert not problems, f"{response.status_code} body {response.text[:500]}: {problems}"


@pytest.fixture(scope="module", autouse=True)
def _stop_lifespan():
    """The ASGI client starts the app's lifespan on first use; close it with the module."""
    yield
    asgi.shutdown_lifespans()


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_operation_keeps_its_contract(case: schemathesis.Case) -> None:
    case.call_and_validate(
        checks=[
            schemathesis.checks.not_a_server_error,
            schemathesis.checks.status_code_conformance,
            schemathesis.checks.content_type_conformance,
            schemathesis.checks.response_schema_conformance,
            schemathesis.checks.negative_data_rejection,
            schemathesis.checks.unsupported_method,
            schemathesis.checks.allow_header_conformance,
        ],
        additional_checks=[documented_answer],
    )


def test_the_fuzzed_schema_covers_the_api() -> None:
    """Guard against a filter or a schema change that silently fuzzes nothing."""
    operations = list(schema.get_all_operations())
    assert all(isinstance(operation, Ok) for operation in operations), operations
    paths = {operation.ok().path for operation in operations if isinstance(operation, Ok)}
    assert {
        "/api/metrics/",
        "/api/metrics/p95/",
        "/api/metrics/p95/range/",
        "/api/metrics/percentiles/",
        "/api/metrics/history/",
        "/health",
        "/health/live",
        "/health/ready",
    } <= paths
    assert "/metrics" not in paths


async def test_the_fake_upstream_gives_full_answers(make_client) -> None:
    """The fuzzing above is only worth its 200s if they carry real numbers.

    Every model's buckets are cumulative rates 1, 3, 4, 4 (times a factor) at
    0.1, 0.5, 1 and +Inf seconds: the 95th percentile ranks 3.8 of 4, which lies
    0.8 of the way through the (0.5, 1] bucket, so 0.9 s = 900 ms for each.
    """
    settings = Settings(prometheus_url="http://prometheus.test", cache_ttl_seconds=0)
    async with make_client(settings, httpx.MockTransport(FakePrometheus().answer)) as client:
        now = (await client.get("/api/metrics/p95/")).json()
        over_time = (await client.get("/api/metrics/p95/range/?duration=1h&step=5m")).json()
    p95 = {row["model"]: row["p95_latency_ms"] for row in now["data"]}
    assert p95 == {**dict.fromkeys(Steady().models, 900.0), "silent": None}
    series = {row["model"]: row["data_points"] for row in over_time["data"]}
    assert [point["p95_latency_ms"] for point in series["gpt-4"]] == [150.0] * 13
    assert {point["p95_latency_ms"] for point in series["silent"]} == {None}
