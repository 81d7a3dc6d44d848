"""requirements.lock and requirements-dev.lock agree with pyproject.toml (`make lock`).

Every requirement of pyproject.toml is pinned in the lock that installs it, at a version
its specifier allows; every pin carries hashes (pip runs with --require-hashes); and the
image and `make install` install from the locks.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.deploy import kit

RUNTIME_LOCK = kit.ROOT / "requirements.lock"
DEV_LOCK = kit.ROOT / "requirements-dev.lock"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def project() -> dict[str, object]:
    table: dict[str, object] = tomllib.loads((kit.ROOT / "pyproject.toml").read_text())["project"]
    return table


def runtime_requirements() -> list[Requirement]:
    return [Requirement(text) for text in project()["dependencies"]]  # type: ignore[attr-defined]


def dev_requirements() -> list[Requirement]:
    extras = project()["optional-dependencies"]
    return [Requirement(text) for text in extras["dev"]]  # type: ignore[index]


def entries(lock: Path) -> list[str]:
    """Each requirement of a lock file, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", lock.read_text())
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] not in "# "]


def pins(lock: Path) -> dict[str, Version]:
    found: dict[str, Version] = {}
    for entry in entries(lock):
        match = PIN.match(entry)
        assert match, f"{lock.name}: not a pin: {entry[:80]}"
        found[canonicalize_name(match.group(1))] = Version(match.group(2))
    return found


def disagreements(requirements: list[Requirement], locked: dict[str, Version]) -> list[str]:
    problems = []
    for requirement in requirements:
        version = locked.get(canonicalize_name(requirement.name))
        if version is None:
            problems.append(f"{requirement} is not in the lock")
        elif not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{requirement} but the lock pins {version}")
    return problems


@pytest.mark.parametrize(
    ("lock", "requirements"),
    [
        (RUNTIME_LOCK, runtime_requirements),
        (DEV_LOCK, runtime_requirements),
        (DEV_LOCK, dev_requirements),
    ],
    ids=["runtime", "dev-runtime", "dev-extra"],
)
def test_every_pyproject_requirement_is_locked_at_an_allowed_version(lock, requirements) -> None:
    problems = disagreements(requirements(), pins(lock))
    assert not problems, "run `make lock`:\n" + "\n".join(problems)


def test_the_check_notices_a_requirement_the_lock_does_not_satisfy() -> None:
    locked = {"fastapi": Version("0.100.0")}
    assert disagreements([Requirement("fastapi>=0.115")], locked)
    assert disagreements([Requirement("redis>=5")], locked)
    assert not disagreements([Requirement("fastapi>=0.99,<1")], locked)


def test_the_runtime_lock_is_the_dev_locks_runtime_part_without_the_tools() -> None:
    runtime, dev = pins(RUNTIME_LOCK), pins(DEV_LOCK)
    assert {name: dev.get(name) for name in runtime} == runtime
    assert not {"pytest", "mypy", "ruff", "schemathesis", "playwright"} & runtime.keys()


@pytest.mark.parametrize("lock", [RUNTIME_LOCK, DEV_LOCK], ids=lambda p: p.name)
def test_every_pin_carries_hashes(lock: Path) -> None:
    for entry in entries(lock):
        assert "--hash=sha256:" in entry, entry[:80]


def test_the_image_and_make_install_install_from_the_locks() -> None:
    dockerfile = kit.DOCKERFILE.read_text()
    assert "COPY requirements.lock" in dockerfile
    assert "--require-hashes" in dockerfile
    assert "-r requirements.lock" in dockerfile
    makefile = (kit.ROOT / "Makefile").read_text()
    assert "--require-hashes --no-deps -r requirements-dev.lock" in makefile
    assert "pip install --quiet --no-deps -e ." in makefile
