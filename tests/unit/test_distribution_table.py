"""The distribution's table path gives the very numbers of one histogram at a time.

``classic_layouts`` computes the models of a shared bucket layout as one table
(``tables``, ``cell_table``, ``table_buckets``); every other model goes through
``cells`` and ``cell_buckets``, the path the tests against Prometheus check. Here both
paths read the same random histograms (non-monotonic, empty, -0.0, fractions) and must
agree to the last bit, -0.0 included.
"""

from __future__ import annotations

import math
import random

import pytest

from app.promql import tables as table_module
from app.promql.layout import cells
from app.promql.quantile import cumulative
from app.promql.tables import tables
from app.services.buckets import InMs, cell_buckets, table_buckets
from tests.support.random_groups import random_groups

LAYOUTS = [
    ["0.1", "0.5", "1", "2.5", "+Inf"],
    ["-1", "-0.5", "0", "0.5", "+Inf"],  # the lowest bucket has no lower bound
    ["+Inf", "0.25", "1", "0.5"],  # in the order the engine sent them
    ["0.1", "0.2", "1"],  # no +Inf
    ["1"],
]


def exact(value: object) -> object:
    """Floats as their repr (-0.0 apart from 0.0), the rest as it is."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return {key: exact(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [exact(item) for item in value]
    return value


@pytest.mark.parametrize("texts", LAYOUTS, ids=",".join)
@pytest.mark.parametrize("seed", range(4))
def test_table_rows_equal_cell_rows(texts, seed, monkeypatch):
    groups = random_groups(random.Random(seed), texts, 40)
    monkeypatch.setattr(table_module, "TABLE_MIN", 1)
    found, rest = tables(groups)
    assert rest == []
    assert len(found) == 1
    tabled = dict(table_buckets(found[0], InMs(1000.0)))
    for name, group in groups.items():
        one = cell_buckets(cells(*cumulative(group)), InMs(1000.0))
        assert exact(tabled[name]) == exact(one), name


def test_rows_with_a_count_that_is_no_number_are_left_out_of_the_table(monkeypatch):
    groups = random_groups(random.Random(3), LAYOUTS[0], 20)
    groups["nan"] = dict.fromkeys(LAYOUTS[0], math.nan)
    groups["inf"] = {**groups["m001"], "+Inf": math.inf}
    monkeypatch.setattr(table_module, "TABLE_MIN", 1)
    found, rest = tables(groups)
    assert sorted(rest) == ["inf", "nan"]
    assert sorted(found[0].names) == sorted(set(groups) - {"inf", "nan"})


def test_layouts_shared_by_few_go_one_at_a_time():
    groups = random_groups(random.Random(4), LAYOUTS[0], table_module.TABLE_MIN - 1)
    found, rest = tables(groups)
    assert found == []
    assert sorted(rest) == sorted(groups)
