"""The README and docs/ are the operators' and frontend developers' reference: keep them true.

Every setting (with its real default), every exported metric and every health endpoint
must be documented in docs/operations.md; the README must show the two commands, name
only Makefile targets that exist, and link only to files that exist.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from pydantic_core import PydanticUndefined

from app.factory import create_app
from app.observability.metrics import ServiceMetrics
from app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
OPERATIONS = (ROOT / "docs" / "operations.md").read_text()
DOCS = {path.name: path.read_text() for path in sorted((ROOT / "docs").glob("*.md"))}
ALL_DOCS = "\n".join([README, *DOCS.values()])

# `| `NAME` | default cell | meaning |`
CONFIG_ROW = re.compile(r"^\| `([A-Z0-9_]+)` \| ([^|]*) \|", re.M)
MAKE_TARGET = re.compile(r"^([a-zA-Z][\w-]*):", re.M)
LOCAL_LINK = re.compile(r"\]\((?!https?://|#)([^)#]+)(?:#[^)]*)?\)")


def section(text: str, title: str) -> str:
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def configuration_table() -> dict[str, str]:
    """docs/operations.md's configuration rows: variable name to its default cell."""
    return {
        name: cell.strip()
        for name, cell in CONFIG_ROW.findall(section(OPERATIONS, "Configuration"))
    }


def documented_as(default: object) -> str | None:
    """How a default is written in the table; None for numbers (compared by value)."""
    if default is None:
        return "(unset)"
    if default in ("", [], ()):
        return "(empty)"
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    if isinstance(default, int | float):
        return None
    return f"`{default}`"  # strings, and `{}` for an empty mapping


def real_default(field: str) -> object:
    info = Settings.model_fields[field]
    default = info.get_default(call_default_factory=True)
    assert default is not PydanticUndefined, f"{field} has no default to document"
    return default


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_every_setting_is_in_the_configuration_table_with_its_default(field: str) -> None:
    table = configuration_table()
    name = field.upper()
    assert name in table, f"{name} is missing from docs/operations.md's configuration table"
    default = real_default(field)
    cell = table[name]
    expected = documented_as(default)
    if expected is None:
        number = re.match(r"`([0-9_.,]+)`", cell)
        assert number, f"{name}: the default cell {cell!r} should start with `{default}`"
        assert float(number.group(1).replace("_", "").replace(",", "")) == default, name
    else:
        assert cell == expected or cell.startswith(f"{expected} "), (name, cell, expected)


def test_the_configuration_table_reads_as_a_table() -> None:
    # Guards the test above against a table the pattern no longer reads.
    table = configuration_table()
    assert len(table) >= len(Settings.model_fields)
    assert table["PROMETHEUS_URL"] == "`http://localhost:9090`"


def test_every_exported_metric_is_in_the_operations_guide() -> None:
    families = ServiceMetrics(CollectorRegistry()).registry.collect()
    names = {family.name for family in families}
    assert {"http_requests", "model_latency_cache_hits", "process_cpu_seconds"} <= names
    documented = section(OPERATIONS, "Metrics")
    for name in names:
        assert f"`{name}`" in documented or f"`{name}_total`" in documented, name


def test_every_health_endpoint_is_in_the_operations_guide() -> None:
    paths = [path for path in create_app(Settings()).openapi()["paths"] if "health" in path]
    assert len(paths) >= 5
    documented = section(OPERATIONS, "Health endpoints")
    for path in paths:
        assert f"GET {path}" in documented or f"GET {path.rstrip('/')}" in documented, path


def test_every_api_path_is_in_the_api_reference() -> None:
    paths = [p for p in create_app(Settings()).openapi()["paths"] if p.startswith("/api/")]
    assert "/api/metrics/p95/" in paths
    for path in paths:
        assert f"`GET {path}`" in DOCS["api.md"] or f"`{path}`" in DOCS["api.md"], path


def test_quick_start_is_the_two_commands_and_ci_runs_the_test_one() -> None:
    quick_start = section(README, "Quick start")
    assert "make run" in quick_start
    assert "make test" in quick_start
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_every_make_target_the_docs_name_exists() -> None:
    targets = set(MAKE_TARGET.findall((ROOT / "Makefile").read_text()))
    # `make x` in prose, or a code line that starts with it
    named = set(re.findall(r"(?:`|^)make ([a-z][\w-]*)", ALL_DOCS, re.M))
    assert {"run", "test"} <= named
    assert named <= targets, f"not in the Makefile: {sorted(named - targets)}"


@pytest.mark.parametrize(
    ("source", "link"),
    [
        (name, link)
        for name, text in [("README.md", README), *((f"docs/{n}", t) for n, t in DOCS.items())]
        for link in sorted(set(LOCAL_LINK.findall(text)))
    ],
)
def test_every_local_link_points_at_a_file(source: str, link: str) -> None:
    assert ((ROOT / source).parent / link).exists(), f"{source} links to missing {link}"


def test_docs_carry_no_microsecond_figures() -> None:
    # Measured figures go stale; they belong in bench/results.md, written by `make bench`.
    for name, text in [("README.md", README), *DOCS.items()]:
        assert not re.search(r"\d\s*µs", text), name
