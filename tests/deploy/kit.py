"""Paths of the deployment kit and readers for its rule and dashboard files.

rules = alerting_rules()          # every alert of deploy/prometheus/rules/
exprs = dashboard_expressions()   # (dashboard, panel title, PromQL) of every target
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
PROMETHEUS_CONFIG = DEPLOY / "prometheus.yml"
RULES_DIR = DEPLOY / "prometheus" / "rules"
RULE_TESTS_DIR = DEPLOY / "prometheus" / "tests"
GRAFANA = DEPLOY / "grafana"
PROVISIONING = GRAFANA / "provisioning"
DASHBOARDS_DIR = GRAFANA / "dashboards"
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = DEPLOY / "docker-compose.yml"
DOCKERIGNORE = ROOT / ".dockerignore"
DOCS = ROOT / "README.md"

SERVICE_JOB = "model-latency-api"
GATEWAY_JOB = "llm-gateway"


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def rule_files() -> list[Path]:
    return sorted(RULES_DIR.glob("*.yml"))


def rule_test_files() -> list[Path]:
    return sorted(RULE_TESTS_DIR.glob("*.yml"))


def rules() -> Iterator[tuple[Path, str, dict[str, Any]]]:
    """(file, group name, rule) for every rule of every rule file."""
    for path in rule_files():
        for group in load_yaml(path)["groups"]:
            for rule in group["rules"]:
                yield path, group["name"], rule


def alerting_rules() -> list[dict[str, Any]]:
    return [rule for _, _, rule in rules() if "alert" in rule]


def recording_rules() -> list[dict[str, Any]]:
    return [rule for _, _, rule in rules() if "record" in rule]


def dockerfile_instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction, continuation lines joined, comments dropped."""
    joined: list[str] = []
    pending = ""
    for line in path.read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        joined.append(pending + line)
        pending = ""
    return [(head.upper(), rest.strip()) for head, _, rest in (j.partition(" ") for j in joined)]


def dashboards() -> dict[str, dict[str, Any]]:
    """Every dashboard JSON, keyed by file name."""
    return {p.name: json.loads(p.read_text()) for p in sorted(DASHBOARDS_DIR.glob("*.json"))}


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, including those nested in collapsed rows."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def data_panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    return (p for p in panels(dashboard) if p.get("type") not in ("row", "text"))


def dashboard_expressions() -> list[tuple[str, str, str]]:
    """(dashboard file, panel or variable name, expression) of every query in every dashboard."""
    found: list[tuple[str, str, str]] = []
    for name, board in dashboards().items():
        for panel in data_panels(board):
            for target in panel.get("targets", []):
                found.append((name, f"{panel['title']} [{target['refId']}]", target["expr"]))
        for variable in board.get("templating", {}).get("list", []):
            if variable.get("type") == "query":
                query = variable["query"]
                text = query["query"] if isinstance(query, dict) else query
                found.append((name, f"${variable['name']}", text))
    return found
