"""The README is the operators' and frontend developers' reference: keep it true to the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from app.factory import create_app
from app.observability.metrics import ServiceMetrics
from app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
CONFIG_ROW = re.compile(r"^\| `([A-Z_]+)` \| `([^`]*)`", re.M)


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def documented_defaults() -> dict[str, str]:
    return dict(CONFIG_ROW.findall(section("Configuration")))


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_every_setting_is_in_the_configuration_table(field: str) -> None:
    assert f"`{field.upper()}`" in section("Configuration")


@pytest.mark.parametrize(
    ("name", "default"),
    [
        (name, default)
        for name, default in CONFIG_ROW.findall(README)
        if name.lower() in Settings.model_fields
    ],
)
def test_documented_scalar_defaults_are_the_real_ones(name: str, default: str) -> None:
    real = Settings.model_fields[name.lower()].default
    if isinstance(real, bool):
        assert default == str(real).lower()
    elif isinstance(real, int | float):
        assert float(default) == real
    elif isinstance(real, str):
        assert default == real


def test_the_configuration_table_has_rows() -> None:
    # Guards the two tests above against a table the pattern no longer reads.
    assert len(documented_defaults()) >= 20


def test_every_exported_metric_is_documented() -> None:
    families = ServiceMetrics(CollectorRegistry()).registry.collect()
    names = {family.name for family in families}
    assert "http_requests" in names
    documented = section("Observability and health")
    for name in names:
        assert f"`{name}`" in documented or f"`{name}_total`" in documented, name


def test_every_health_endpoint_is_documented() -> None:
    paths = [path for path in create_app(Settings()).openapi()["paths"] if "health" in path]
    assert len(paths) >= 5
    documented = section("Observability and health")
    for path in paths:
        assert f"GET {path.rstrip('/') or path}" in documented or f"GET {path}" in documented


def test_quick_start_is_the_two_commands_and_ci_runs_the_test_one() -> None:
    quick_start = section("Quick start")
    assert "make run" in quick_start
    assert "make test" in quick_start
    assert "make test" in (ROOT / ".ci" / "run").read_text()
