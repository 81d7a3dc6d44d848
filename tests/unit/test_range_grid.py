"""The range cache's columns against a point-by-point reference.

``store`` and ``points_between`` build a column by slices when a series' points are
exactly the grid's times one step apart (what an engine answers) and point by point
otherwise. The reference here is the point-by-point rule alone: every stamp placed at
``grid.index(stamp)``, every present index read back as ``(grid.seconds(i), value)``.
Random series mix the aligned case with gaps, stamps off the grid, stamps outside the
block and NaN values; both must give the same columns and points, bit for bit.
"""

from __future__ import annotations

import math
import random
import struct

import pytest

from app.promql.range_grid import Grid, Stored, points_between, store
from app.promql.upstream import Series


def reference_store(series_list: list[Series], grid: Grid, low: int, high: int) -> dict:
    width = high - low + 1
    found = {}
    for series in series_list:
        values = [math.nan] * width
        present = [0] * width
        for stamp, value in series.points:
            i = grid.index(stamp) - low
            if 0 <= i < width:
                values[i] = value
                present[i] = 1
        if any(present):
            found[tuple(sorted(series.labels.items()))] = (values, present)
    return found


def bits(values: list[float]) -> list[bytes]:
    return [struct.pack("<d", v) for v in values]


def random_series(rng: random.Random, grid: Grid, name: str) -> Series:
    first, last = grid.first, grid.last
    kind = rng.choice(["aligned", "gaps", "off-grid", "outside", "empty", "late start"])
    steps = list(range(first, last + 1))
    if kind == "gaps":
        steps = sorted(rng.sample(steps, rng.randint(1, len(steps))))
    elif kind == "late start":
        steps = steps[rng.randint(0, len(steps) - 1) :]
    elif kind == "outside":
        steps = list(range(first - 3, last + 4))
    elif kind == "empty":
        steps = []
    stamps = [grid.seconds(i) for i in steps]
    if kind == "off-grid":
        stamps = [s + rng.choice([0.0, 0.001, -0.002, 0.4 * grid.step_ms / 1000]) for s in stamps]
    values = [rng.choice([rng.uniform(0, 5), math.nan, 0.0, -0.0]) for _ in stamps]
    return Series({"model": name}, list(zip(stamps, values, strict=True)))


@pytest.mark.parametrize("seed", range(40))
def test_store_and_points_between_match_the_point_by_point_rule(seed: int) -> None:
    rng = random.Random(seed)
    step = rng.choice([15.0, 60.0, 0.5])
    start = 1_700_000_000 + rng.choice([0.0, 0.25, 7.0])
    grid = Grid.of(start, start + step * rng.randint(1, 70), step)
    series = [random_series(rng, grid, f"m{k}") for k in range(12)]
    low, high = grid.first + rng.randint(0, 2), grid.last - rng.randint(0, 2)
    if low > high:
        low, high = grid.first, grid.last

    stored = store(series, grid, low, high)
    expected = reference_store(series, grid, low, high)
    assert sorted(stored.columns) == sorted(expected)
    for key, column in stored.columns.items():
        values, present = expected[key]
        assert bits(list(column.values)) == bits(values)
        assert list(column.present) == present

    a, b = grid.first + rng.randint(-2, 3), grid.last + rng.randint(-3, 2)
    found = points_between(stored, grid, a, b)
    wanted = {}
    for key, (values, present) in expected.items():
        points = [
            (grid.seconds(i), values[i - low])
            for i in range(max(a, low), min(b, high) + 1)
            if present[i - low]
        ]
        if points:
            wanted[key] = points
    assert sorted(found) == sorted(wanted)
    for key, points in found.items():
        assert [t for t, _ in points] == [t for t, _ in wanted[key]]
        assert bits([v for _, v in points]) == bits([v for _, v in wanted[key]])


def test_points_between_outside_the_block_is_empty() -> None:
    grid = Grid.of(600.0, 780.0, 60.0)
    stored = store([Series({"model": "a"}, [(600.0, 1.0)])], grid, grid.first, grid.last)
    assert isinstance(stored, Stored)
    assert points_between(stored, grid, grid.last + 1, grid.last + 5) == {}
    first = points_between(stored, grid, grid.first, grid.first)
    assert first == {(("model", "a"),): [(600.0, 1.0)]}
