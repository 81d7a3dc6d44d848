"""Every PromQL expression of every dashboard and rule file, run against a real Prometheus.

The stack is the compose one on loopback ports: the demo traffic source
(``python -m demo.traffic``), the service (``uvicorn app.main:app``) and Debian's
Prometheus loading deploy/prometheus.yml (targets rewritten, 1 s scrapes and rule
evaluations) with the kit's rule files. After known traffic has been sent to the service
(successful queries, repeated ones the cache answers, queries to an unreachable
Prometheus that end in 503, an unknown path), each expression must evaluate without error
and return at least one series with a finite value. For alerts, which are rightly empty
while nothing is wrong, each side of each comparison is run instead, so a misspelt metric
or label cannot hide behind a condition that is false anyway.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from harness.processes import free_port, stop_process, wait_for_http
from harness.prometheus import PROMETHEUS, PrometheusServer
from tests.conftest import require_binary
from tests.deploy import kit

pytestmark = pytest.mark.prometheus

STARTUP_SECONDS = 60.0
SETTLE_SECONDS = 120.0  # bound on waiting for every expression to have data
RATE_INTERVAL = "1m"  # what $__rate_interval stands for here (Grafana: >= 4 scrapes)
TRAFFIC_ROUNDS = 5  # requests per endpoint per round of service traffic
COMPARISONS = ("==", "!=", ">=", "<=", ">", "<")
SET_OPERATORS = ("and", "or", "unless")


# --- expressions ---------------------------------------------------------------


def split_top_level(expr: str, operators: tuple[str, ...]) -> list[str]:
    """Split ``expr`` at binary ``operators`` outside brackets and strings.

    Word operators (and, or, unless) need a non-identifier character on both sides;
    symbol operators are matched longest first (``>=`` before ``>``).
    """
    parts, depth, start, i, quote = [], 0, 0, 0, ""
    while i < len(expr):
        char = expr[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = ""
        elif char in "\"'`":
            quote = char
        elif char in "({[":
            depth += 1
        elif char in ")}]":
            depth -= 1
        elif depth == 0 and (width := _operator_at(expr, i, operators)):
            parts.append(expr[start:i])
            i += width
            start = i
            continue
        i += 1
    parts.append(expr[start:])
    return [_strip_modifiers(part) for part in parts]


def _operator_at(expr: str, i: int, operators: tuple[str, ...]) -> int:
    for op in sorted(operators, key=len, reverse=True):
        if not expr.startswith(op, i):
            continue
        if op.isalpha():
            before = expr[i - 1] if i else " "
            after = expr[i + len(op)] if i + len(op) < len(expr) else " "
            if re.match(r"[\w:]", before) or re.match(r"[\w:]", after):
                continue
        elif op in ("<", ">") and expr.startswith("=", i + 1):
            continue
        return len(op)
    return 0


def _strip_modifiers(part: str) -> str:
    """Drop `bool`, `on(...)`, `ignoring(...)`, `group_left(...)` opening a right operand."""
    pattern = r"^\s*(bool\b|(on|ignoring|group_left|group_right)\s*(\([^)]*\))?)"
    while re.match(pattern, part):
        part = re.sub(pattern, "", part, count=1)
    return part.strip()


def alert_operands(expr: str) -> list[str]:
    """The non-literal sides of every comparison of an alert's condition."""
    operands = []
    for clause in split_top_level(expr, SET_OPERATORS):
        for side in split_top_level(clause, COMPARISONS):
            if not re.fullmatch(r"[-+]?[0-9.eE+-]+", side):
                operands.append(side)
    return operands


def rule_queries() -> list[tuple[str, str]]:
    """(label, PromQL) for every recording rule, recorded series and alert operand."""
    queries = []
    for path, _, rule in kit.rules():
        if "record" in rule:
            queries.append((f"{path.name} record {rule['record']}", rule["expr"]))
            queries.append((f"{path.name} series {rule['record']}", rule["record"]))
        else:
            for n, operand in enumerate(alert_operands(rule["expr"])):
                queries.append((f"{path.name} alert {rule['alert']} [{n}]", operand))
    return queries


def dashboard_queries() -> list[tuple[str, str]]:
    """(label, expression with variables) for every dashboard target and query variable.

    An ``X or vector(0)`` (a ratio shown as 0 when nothing failed) is also run without
    the fallback, so X itself must match real series.
    """
    queries = []
    for board, title, expr in kit.dashboard_expressions():
        queries.append((f"{board} {title}", expr))
        if "or vector(0)" in expr:
            queries.append((f"{board} {title} (no fallback)", expr.replace(" or vector(0)", "")))
    return queries


def label_values_query(text: str) -> str:
    """Grafana's ``label_values(selector, label)`` as PromQL with the same answer set."""
    match = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", text.strip())
    if not match:
        return text
    return f"count by ({match.group(2)}) ({match.group(1)})"


def regex_of(values: list[str]) -> str:
    """A multi-value template variable as Grafana substitutes it into `=~`: (a|b)."""
    escaped = [re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\\\1", value) for value in values]
    return "(" + "|".join(escaped) + ")"


# --- the stack -------------------------------------------------------------------


@dataclass
class Stack:
    prometheus: PrometheusServer
    api: str
    api_instance: str
    dead_prometheus: str
    sent: dict[str, int]  # requests sent so far, by expected status

    def send_traffic(self) -> None:
        for status, count in send_traffic(self.api, self.dead_prometheus).items():
            self.sent[status] = self.sent.get(status, 0) + count

    def query(self, expr: str) -> dict[str, Any]:
        response = httpx.post(
            self.prometheus.url + "/api/v1/query", data={"query": expr}, timeout=30
        )
        body: dict[str, Any] = response.json()
        return body

    def substitute(self, expr: str, models: list[str]) -> str:
        text = label_values_query(expr)
        for name, value in (
            ("__rate_interval", RATE_INTERVAL),
            ("__interval", "15s"),
            ("__range", "5m"),
            ("model", regex_of(models)),
            ("instance", regex_of([self.api_instance])),
        ):
            text = text.replace("${" + name + "}", value).replace("$" + name, value)
        assert "$" not in text, f"unsubstituted variable in {text}"
        return text


def _start(
    argv: list[str], log: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            argv,
            cwd=kit.ROOT,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def prometheus_config(api: str, traffic: str, self_address: str) -> str:
    """deploy/prometheus.yml with loopback targets, 1 s intervals and absolute rule paths."""
    config = kit.load_yaml(kit.PROMETHEUS_CONFIG)
    config["global"].update(scrape_interval="1s", evaluation_interval="1s", scrape_timeout="1s")
    config["rule_files"] = [
        str(kit.PROMETHEUS_CONFIG.parent / pattern) for pattern in config["rule_files"]
    ]
    # Both compose replicas map to the one service this stack runs (listed once).
    addresses = {
        "127.0.0.1:8000": api,
        "127.0.0.1:8001": api,
        "127.0.0.1:9101": traffic,
        "127.0.0.1:9090": self_address,
    }
    for job in config["scrape_configs"]:
        for static in job["static_configs"]:
            moved = [addresses[target] for target in static["targets"]]
            static["targets"] = list(dict.fromkeys(moved))
    return yaml.safe_dump(config, sort_keys=False)


def send_traffic(api: str, dead_prometheus: str) -> dict[str, int]:
    """Known requests: answered, cached, failing upstream (503), unknown path (404).

    Returns how many of each status were sent.
    """
    paths = (
        "/api/metrics/p95/",
        "/api/metrics/",
        "/api/metrics/percentiles/?percentiles=50,95,99",
        "/api/metrics/p95/range/?duration=5m&step=15s",
        "/health/live",
    )
    with httpx.Client(base_url=api, timeout=30) as client:
        for _ in range(TRAFFIC_ROUNDS):
            for path in paths:
                assert client.get(path).status_code == 200, path
            failed = client.get("/api/metrics/p95/", params={"prometheus_url": dead_prometheus})
            assert failed.status_code == 503, failed.text
            assert client.get("/no/such/path").status_code == 404
    return {"200": TRAFFIC_ROUNDS * len(paths), "503": TRAFFIC_ROUNDS, "404": TRAFFIC_ROUNDS}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    require_binary(PROMETHEUS)
    assert (kit.ROOT / "demo" / "traffic.py").is_file(), "the demo traffic source is missing"
    workdir = tmp_path_factory.mktemp("deploy-live")
    api_port, traffic_port, prom_port, dead_port = (free_port() for _ in range(4))
    api_instance = f"127.0.0.1:{api_port}"
    api = f"http://{api_instance}"
    dead_prometheus = f"http://127.0.0.1:{dead_port}"  # nothing listens there
    prometheus = PrometheusServer(
        workdir,
        workdir / "tsdb",
        config=prometheus_config(
            api_instance, f"127.0.0.1:{traffic_port}", f"127.0.0.1:{prom_port}"
        ),
        port=prom_port,
    )
    traffic_log, api_log = workdir / "traffic.log", workdir / "api.log"
    traffic = _start(
        [sys.executable, "-m", "demo.traffic", "--host", "127.0.0.1", "--port", str(traffic_port)],
        traffic_log,
    )
    service = _start(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(api_port),
        ],
        api_log,
        env={"PROMETHEUS_URL": prometheus.url, "PROMETHEUS_ALLOWED_URLS": dead_prometheus},
    )
    try:
        wait_for_http(f"http://127.0.0.1:{traffic_port}/metrics", traffic, traffic_log)
        wait_for_http(api + "/health/live", service, api_log)
        prometheus.start(STARTUP_SECONDS)
        live = Stack(prometheus, api, api_instance, dead_prometheus, sent={})
        _settle(live)
        yield live
    finally:
        prometheus.stop()
        stop_process(service, grace=15)
        stop_process(traffic, grace=15)


def _models(stack: Stack) -> list[str]:
    result = stack.query("count by (model) (request_duration_seconds_count)")["data"]["result"]
    return sorted(series["metric"]["model"] for series in result)


def _has_finite_value(body: dict[str, Any]) -> bool:
    if body.get("status") != "success":
        return False
    result = body["data"]["result"]
    if body["data"]["resultType"] == "scalar":
        return math.isfinite(float(result[1]))
    return any(math.isfinite(float(series["value"][1])) for series in result)


def _settle(stack: Stack) -> None:
    """Send traffic and wait (bounded) until every expression has a finite answer."""
    queries = [q for _, q in rule_queries() + dashboard_queries()]
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        stack.send_traffic()
        models = _models(stack)
        pending = [
            q
            for q in queries
            if not models or not _has_finite_value(stack.query(stack.substitute(q, models)))
        ]
        if not pending or time.monotonic() > deadline:
            return  # the tests below report whatever is still missing
        time.sleep(2)


# --- tests ---------------------------------------------------------------------------


def test_both_jobs_are_scraped(stack: Stack) -> None:
    result = stack.query("up")["data"]["result"]
    up = {series["metric"]["job"]: series["value"][1] for series in result}
    assert up[kit.SERVICE_JOB] == "1"
    assert up[kit.GATEWAY_JOB] == "1"


@pytest.mark.parametrize(
    ("status", "selector"),
    [("503", 'handler="/api/metrics/p95/"'), ("404", 'handler="unmatched"')],
)
def test_prometheus_counts_exactly_the_failed_requests_sent(
    stack: Stack, status: str, selector: str
) -> None:
    expr = f'sum(http_requests_total{{job="{kit.SERVICE_JOB}", status="{status}", {selector}}})'
    deadline = time.monotonic() + 10  # a few 1 s scrapes after the last request
    while True:
        result = stack.query(expr)["data"]["result"]
        seen = float(result[0]["value"][1]) if result else 0.0
        if seen == stack.sent[status] or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert seen == stack.sent[status]


def test_the_demo_exports_the_agreed_models(stack: Stack) -> None:
    assert set(_models(stack)) >= {
        "gpt-4o",
        "claude-3-5-sonnet",
        "gemini-1-5-flash",
        "llama-3-70b",
        "mistral-7b",
    }


def test_prometheus_loaded_every_rule_and_evaluates_it_without_error(stack: Stack) -> None:
    groups = httpx.get(stack.prometheus.url + "/api/v1/rules", timeout=10).json()["data"]["groups"]
    loaded = {rule["name"]: rule for group in groups for rule in group["rules"]}
    expected = {rule.get("record") or rule["alert"] for _, _, rule in kit.rules()}
    assert set(loaded) == expected
    for name, rule in loaded.items():
        assert rule["health"] == "ok", f"{name}: {rule.get('lastError')}"
        assert rule["lastEvaluation"] != "0001-01-01T00:00:00Z", f"{name} never evaluated"


@pytest.mark.parametrize(("label", "expr"), rule_queries(), ids=[q[0] for q in rule_queries()])
def test_rule_expression_returns_data(stack: Stack, label: str, expr: str) -> None:
    body = stack.query(stack.substitute(expr, _models(stack)))
    assert body["status"] == "success", body
    assert _has_finite_value(body), f"{label}: no series with a value for {expr}"


@pytest.mark.parametrize(
    ("label", "expr"), dashboard_queries(), ids=[q[0] for q in dashboard_queries()]
)
def test_dashboard_expression_returns_data(stack: Stack, label: str, expr: str) -> None:
    body = stack.query(stack.substitute(expr, _models(stack)))
    assert body["status"] == "success", body
    assert _has_finite_value(body), f"{label}: no series with a value for {expr}"


def test_the_splitter_finds_both_sides_of_every_comparison() -> None:
    assert alert_operands('a{x=~"1|2"} > 0.2') == ['a{x=~"1|2"}']
    assert alert_operands("a < 0.2\n  and b > 0.5") == ["a", "b"]
    assert alert_operands("sum(x or y) >= on(job) group_left c") == ["sum(x or y)", "c"]
    assert alert_operands('up{job="j"} == 0') == ['up{job="j"}']
    assert split_top_level("candor or orchid", SET_OPERATORS) == ["candor", "orchid"]
