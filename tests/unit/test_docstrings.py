"""Every example written as ``>>>`` in a docstring under app/ runs and gives what it shows.

Illustrations that need a running server (a client, a store) are written as indented
code without prompts; anything with a prompt is a doctest, checked here.
"""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"
MODULES = sorted(
    ".".join(path.relative_to(APP.parent).with_suffix("").parts).removesuffix(".__init__")
    for path in APP.rglob("*.py")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, name):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"


def test_the_examples_are_found() -> None:
    """The search above finds examples at all (a broken finder would pass every module)."""
    module = importlib.import_module("app.singleflight")
    assert any(test.examples for test in doctest.DocTestFinder().find(module))
