"""The Grafana provisioning and dashboards are provisionable as they are.

No Grafana server runs here, so these tests check on the JSON what Grafana would trip
over or what makes a dashboard non-portable: a hard-coded or `${DS_...}` datasource,
`__inputs` (an export for sharing, not for provisioning), uids over 40 characters,
missing units, fixed rate windows instead of `$__rate_interval`, panels with no query.
The queries themselves are run against a real Prometheus in test_expressions_live.py.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.deploy import kit

BOARDS = kit.dashboards()
DATASOURCE_REF = {"type": "prometheus", "uid": "${datasource}"}
BUILTIN_VARIABLES = {"__rate_interval", "__interval", "__range", "__all"}


def _datasource() -> dict[str, Any]:
    document = kit.load_yaml(kit.PROVISIONING / "datasources" / "prometheus.yml")
    [datasource] = document["datasources"]
    return datasource


def _variables(board: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in board["templating"]["list"]}


def _by_title(title: str) -> dict[str, Any]:
    [board] = [b for b in BOARDS.values() if b["title"] == title]
    return board


def test_both_dashboards_are_there_with_unique_short_uids() -> None:
    assert {b["title"] for b in BOARDS.values()} >= {"Model latency", "Service health"}
    uids = [b["uid"] for b in BOARDS.values()]
    assert len(set(uids)) == len(uids)
    assert all(re.fullmatch(r"[a-zA-Z0-9_-]{1,40}", uid) for uid in uids)


@pytest.mark.parametrize("name", BOARDS)
def test_no_inputs_and_no_hard_coded_datasource(name: str) -> None:
    text = (kit.DASHBOARDS_DIR / name).read_text()
    board = json.loads(text)
    assert "__inputs" not in board
    assert "__requires" not in board
    assert "${DS_" not in text
    assert "id" not in board or board["id"] is None, "a fixed id clashes on import"


@pytest.mark.parametrize("name", BOARDS)
def test_a_datasource_variable_defaults_to_the_provisioned_uid(name: str) -> None:
    variable = _variables(BOARDS[name])["datasource"]
    assert variable["type"] == "datasource"
    assert variable["query"] == "prometheus"
    assert variable["current"]["value"] == _datasource()["uid"]


@pytest.mark.parametrize("name", BOARDS)
def test_every_panel_and_target_uses_the_datasource_variable(name: str) -> None:
    board = BOARDS[name]
    for panel in kit.data_panels(board):
        assert panel["datasource"] == DATASOURCE_REF, panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == DATASOURCE_REF, panel["title"]
    for variable in _variables(board).values():
        if variable["type"] == "query":
            assert variable["datasource"] == DATASOURCE_REF


@pytest.mark.parametrize("name", BOARDS)
def test_every_panel_has_a_query_a_unit_and_a_unique_id(name: str) -> None:
    board = BOARDS[name]
    ids = [panel["id"] for panel in kit.panels(board)]
    assert len(set(ids)) == len(ids)
    for panel in kit.data_panels(board):
        targets = panel.get("targets", [])
        assert targets, panel["title"]
        assert all(t["expr"].strip() for t in targets), panel["title"]
        refs = [t["refId"] for t in targets]
        assert len(set(refs)) == len(refs), panel["title"]
        assert panel["fieldConfig"]["defaults"].get("unit"), f"no unit on {panel['title']}"
        if panel["type"] == "heatmap":
            assert panel["options"]["yAxis"].get("unit"), "heatmap buckets need a unit"
        assert {"h", "w", "x", "y"} <= panel["gridPos"].keys()


@pytest.mark.parametrize("name", BOARDS)
def test_every_range_in_a_dashboard_is_the_rate_interval(name: str) -> None:
    exprs = [expr for board, _, expr in kit.dashboard_expressions() if board == name]
    ranges = [r for expr in exprs for r in re.findall(r"\[[^\]]*\]", expr)]
    assert ranges, "the dashboard has no rate at all"
    assert set(ranges) == {"[$__rate_interval]"}
    for expr in exprs:
        for function in re.findall(r"\b(rate|irate|increase)\(", expr):
            assert "[$__rate_interval]" in expr, f"{function} without $__rate_interval: {expr}"


@pytest.mark.parametrize("name", BOARDS)
def test_every_variable_used_is_defined(name: str) -> None:
    board = BOARDS[name]
    text = json.dumps([p for p in kit.panels(board)])
    used = set(re.findall(r"\$\{?(\w+)", text))
    assert used - BUILTIN_VARIABLES <= _variables(board).keys()


def test_model_latency_has_the_panels_the_issue_lists() -> None:
    board = _by_title("Model latency")
    assert _variables(board)["model"]["type"] == "query"
    types = {p["type"] for p in kit.data_panels(board)}
    assert {"timeseries", "table", "heatmap"} <= types
    exprs = " ".join(e for b, _, e in kit.dashboard_expressions() if BOARDS[b] is board)
    for quantile in ("p50", "p95", "p99"):
        assert f"model:request_duration_seconds:{quantile}_5m" in exprs
    assert "rate(request_duration_seconds_count" in exprs
    repeated = [p for p in kit.data_panels(board) if p.get("repeat") == "model"]
    assert repeated, "per-model percentiles repeat over $model"


def _danger_threshold() -> float:
    [rule] = [r for r in kit.alerting_rules() if r["alert"] == "ModelLatencyP95Danger"]
    match = re.fullmatch(r"model:request_duration_seconds:p95_5m > ([0-9.]+)", rule["expr"])
    assert match, rule["expr"]
    return float(match.group(1))


def test_table_colours_turn_red_at_the_alert_threshold() -> None:
    board = _by_title("Model latency")
    [table] = [p for p in kit.data_panels(board) if p["type"] == "table"]
    defaults = table["fieldConfig"]["defaults"]
    assert defaults["custom"]["cellOptions"]["type"] == "color-background"
    steps = defaults["thresholds"]["steps"]
    assert [s["color"] for s in steps] == ["green", "yellow", "red"]
    assert steps[-1]["value"] == _danger_threshold()
    assert steps[1]["value"] < steps[-1]["value"]
    assert all(t.get("instant") and t.get("format") == "table" for t in table["targets"])


def test_service_health_covers_the_service_metrics() -> None:
    board = _by_title("Service health")
    exprs = " ".join(e for b, _, e in kit.dashboard_expressions() if BOARDS[b] is board)
    for metric in (
        "http_requests_total",
        "http_request_duration_seconds_bucket",
        "model_latency_upstream_queries_total",
        "model_latency_upstream_query_duration_seconds_bucket",
        "model_latency_cache_hits_total",
        "model_latency_cache_misses_total",
        "process_resident_memory_bytes",
    ):
        assert metric in exprs, metric
    assert 'job="model-latency-api"' in exprs


def test_provisioning_files_point_at_the_compose_prometheus_and_dashboard_dir() -> None:
    datasource = _datasource()
    assert datasource["type"] == "prometheus"
    assert datasource["url"] == "http://prometheus:9090"
    assert len(datasource["uid"]) <= 40
    scrape = kit.load_yaml(kit.PROMETHEUS_CONFIG)["global"]["scrape_interval"]
    assert datasource["jsonData"]["timeInterval"] == scrape, "$__rate_interval needs it"
    [provider] = kit.load_yaml(kit.PROVISIONING / "dashboards" / "model-latency-api.yml")[
        "providers"
    ]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"
