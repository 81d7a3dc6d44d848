"""No module under app/ imports from a layer above its own.

The layer order is written here once, lowest first; a module may import its own layer
and any layer below it. Every import is read from the source with ``ast`` (those inside
functions and ``TYPE_CHECKING`` blocks too), so an upward import fails here before a
reader meets it.
"""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"

LAYERS: tuple[frozenset[str], ...] = tuple(
    frozenset(names.split())
    for names in (
        "errors offload breaker singleflight credentials",  # know nothing of the rest
        "promql",  # queries and the engines' HTTP API; never FastAPI
        "params",  # pure checks of parameters
        "settings",
        "profiles",  # what each inference engine exports
        "schemas",  # pydantic models: queries and answers
        "http",  # ASGI helpers, scope slots, error handlers, streams
        "observability",  # metrics, logs, traces
        "cache",  # the response cache and its HTTP layer
        "services",  # one function per endpoint
        "state",  # what the lifespan builds
        "deps",  # FastAPI dependencies
        "routers",
        "lifespan builders factory",
        "main",
    )
)


def layer_of(unit: str) -> int:
    for index, names in enumerate(LAYERS):
        if unit in names:
            return index
    raise AssertionError(f"app.{unit} is in no layer: add it to LAYERS in {__file__}")


def unit_of(path: Path) -> str:
    relative = path.relative_to(APP)
    return relative.parts[0].removesuffix(".py")


def imported_units(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "app" and len(parts) > 1 and not parts[1].startswith("__"):
                found.add(parts[1])
    return found


def modules() -> list[Path]:
    return [p for p in sorted(APP.rglob("*.py")) if p.relative_to(APP).parts[0] != "__init__.py"]


def test_every_app_module_is_in_a_layer() -> None:
    for path in modules():
        layer_of(unit_of(path))


def test_no_module_imports_from_a_layer_above_its_own() -> None:
    upward = [
        f"{path.relative_to(APP.parent)} imports app.{unit}"
        for path in modules()
        for unit in sorted(imported_units(path))
        if (APP / unit).exists() or (APP / f"{unit}.py").exists()
        if layer_of(unit) > layer_of(unit_of(path))
    ]
    assert upward == []
