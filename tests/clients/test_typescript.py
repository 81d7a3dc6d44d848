"""The TypeScript client in clients/typescript: its types match the API, and they bite.

- ``src/schema.d.ts`` is what openapi-typescript makes of the application's OpenAPI
  document today (regenerate with ``make types`` after changing a schema);
- ``src`` and every example compile under ``tsc --strict``;
- each file in ``negative/`` fails to compile, with exactly the error it is there for
  (a latency is ``number | null``, so ``.toFixed`` on it needs a null check).

Needs Node.js and npm; ``npm ci`` runs first when node_modules is missing or stale.
"""

from __future__ import annotations

import difflib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_binary

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "clients" / "typescript"
GENERATE = ROOT / "scripts" / "generate-ts-types.sh"
TSC = CLIENT / "node_modules" / ".bin" / "tsc"
# file in negative/ -> the one error it must produce: (line, TS code, text in the message)
NULL = "is possibly 'null'."
NEGATIVE = {
    "negative/nullable-latency.ts": (7, "TS18047", f"'item.p95_latency_ms' {NULL}"),
    "negative/nullable-range-point.ts": (7, "TS18047", f"'point.p95_latency_ms' {NULL}"),
}
TSC_ERROR = re.compile(
    r"^(?P<file>[^(\s]+)\((?P<line>\d+),\d+\): error (?P<code>TS\d+): (?P<text>.*)$"
)


def run(argv: list[str | Path], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in argv], cwd=CLIENT, capture_output=True, text=True, timeout=timeout
    )


def node_modules_stale() -> bool:
    installed = CLIENT / "node_modules" / ".package-lock.json"
    lock = CLIENT / "package-lock.json"
    return not installed.exists() or lock.stat().st_mtime > installed.stat().st_mtime


@pytest.fixture(scope="module")
def installed() -> None:
    require_binary("node")
    require_binary("npm")
    if node_modules_stale():
        result = run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], timeout=600)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.usefixtures("installed")
def test_committed_types_match_the_applications_openapi_document(tmp_path):
    fresh = tmp_path / "schema.d.ts"
    env = {**os.environ, "PYTHON": sys.executable}  # the interpreter running these tests
    result = subprocess.run(
        [str(GENERATE), str(fresh)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    committed = (CLIENT / "src" / "schema.d.ts").read_text()
    diff = "".join(
        difflib.unified_diff(
            committed.splitlines(keepends=True),
            fresh.read_text().splitlines(keepends=True),
            "src/schema.d.ts (committed)",
            "src/schema.d.ts (from create_app().openapi())",
        )
    )
    assert not diff, f"the API changed; run `make types` and commit the result:\n{diff[:6000]}"


def test_latencies_are_nullable_in_the_generated_types():
    schema = (CLIENT / "src" / "schema.d.ts").read_text()
    for field in ("p50_latency_ms", "p95_latency_ms", "p99_latency_ms"):
        assert re.search(rf"\b{field}: number \| null;", schema), field
    assert re.search(r"\b\w+_latency_ms: number;", schema) is None


@pytest.mark.usefixtures("installed")
def test_client_and_examples_compile_under_strict():
    result = run([TSC, "-p", "tsconfig.json", "--strict", "--noEmit"])
    assert result.returncode == 0, result.stdout + result.stderr
    examples = {p.name for p in (CLIENT / "examples").iterdir()}
    assert {"fetch.ts", "axios.ts", "react.tsx", "vue.ts", "angular.ts"} <= examples
    assert {"chart-range.ts", "status.ts", "stream.ts"} <= examples


@pytest.mark.usefixtures("installed")
def test_calling_tofixed_on_a_possibly_null_latency_does_not_compile():
    assert {f"negative/{p.name}" for p in (CLIENT / "negative").glob("*.ts")} == set(NEGATIVE)
    result = run([TSC, "-p", "tsconfig.negative.json", "--strict", "--noEmit"])
    assert result.returncode != 0, "the negative files compiled: latencies are not nullable"
    errors = [m for line in result.stdout.splitlines() if (m := TSC_ERROR.match(line))]
    found = {(m["file"], int(m["line"]), m["code"], m["text"]) for m in errors}
    expected = {(f, line, code, text) for f, (line, code, text) in NEGATIVE.items()}
    assert found == expected, result.stdout + result.stderr
