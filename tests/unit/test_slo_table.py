"""SLO attainment of a table of models is each model's own attainment, to the last bit.

``classic_attainments`` computes the models of a shared bucket layout as one table
(``table_attainments``, ``table_fractions``); every other model goes through
``attainment`` and ``fraction_below``, the path the tests against Prometheus check.
Here both read the same random histograms (non-monotonic, empty, -0.0, fractions) at
thresholds on, between, below and above the bounds, with and without Apdex.
"""

from __future__ import annotations

import math
import random

import pytest

from app.promql import tables as table_module
from app.promql.tables import tables
from app.services.slo import Thresholds, attainment, table_attainments
from tests.support.random_groups import random_groups

LAYOUTS = [
    ["0.1", "0.5", "1", "2.5", "+Inf"],
    ["-1", "-0.5", "0", "0.5", "+Inf"],  # the lowest bucket has no lower bound
    ["+Inf", "0.25", "1", "0.5"],  # in the order the engine sent them
    ["0.1", "0.2", "1"],  # no +Inf: every model idle
    ["+Inf"],
]
THRESHOLDS = [0.05, 0.1, 0.1 + 1e-15, 0.3, 0.5, 1.0, 2.5, 7.0, -2.0, -0.5, 0.0, math.nan]


def exact(value: object) -> object:
    """Floats as their repr (-0.0 and NaN told apart), the rest as it is."""
    return repr(value) if isinstance(value, float) else value


def fields(found: object) -> tuple[object, ...]:
    return tuple(exact(getattr(found, name)) for name in ("share", "requests", "exact", "apdex"))


@pytest.mark.parametrize("texts", LAYOUTS, ids=",".join)
@pytest.mark.parametrize("threshold", THRESHOLDS, ids=repr)
@pytest.mark.parametrize("apdex_t", [None, 0.1, 0.2])
def test_table_attainment_is_each_models_own(texts, threshold, apdex_t, monkeypatch):
    groups = random_groups(random.Random(len(texts)), texts, 40)
    monkeypatch.setattr(table_module, "TABLE_MIN", 1)
    (table,), rest = tables(groups)
    assert rest == []
    limits = Thresholds(threshold, apdex_t, 300.0)
    tabled = dict(table_attainments(table, limits))
    assert list(tabled) == table.names
    for name, counts in zip(table.names, table.counts.tolist(), strict=True):
        assert fields(tabled[name]) == fields(attainment(table.bounds, counts, limits)), name
