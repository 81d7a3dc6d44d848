"""A histogram's buckets as a distribution answer lists them.

Each bucket: its bounds in milliseconds, its own rate (``per_second``), its ``share``
of the total and the ``cumulative_share`` below its upper bound. One builder
(``shown``) makes them, from one histogram's cells (``cell_buckets``) or from each row
of a table of histograms that share a layout (``table_buckets``), with the running
sums added from 0.0 in order on both paths, so both give the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterator

from app.promql.layout import Cell, cell_table
from app.promql.tables import Table
from app.services.milliseconds import to_milliseconds

Rows = list[dict[str, object]]

Buckets = tuple[float | None, Rows]
"""A histogram's total rate and its buckets as the answer lists them."""


class InMs(dict[float | None, float | None]):
    """Bucket bounds in milliseconds, each converted once per answer: a few distinct
    bounds, listed for every model (a lookup here is a plain dictionary's)."""

    def __init__(self, factor: float) -> None:
        super().__init__()
        self.factor = factor

    def __missing__(self, bound: float | None) -> float | None:
        found = self[bound] = None if bound is None else to_milliseconds(bound, self.factor)
        return found


Part = tuple[float | None, float | None, float, float]
"""A bucket as the answer lists it: its bounds in milliseconds, its own count and the
running sum of the counts up to it, from 0.0."""


def shown(parts: list[Part], total: float | None) -> Buckets:
    """The total rate and the buckets as the answer lists them; ``total`` is the last
    running sum (None for no buckets)."""
    if not total:
        return total, [
            {"lower_ms": lo, "le_ms": up, "per_second": c, "share": None, "cumulative_share": None}
            for lo, up, c, _ in parts
        ]
    return total, [
        {
            "lower_ms": lo,
            "le_ms": up,
            "per_second": c,
            "share": c / total,
            "cumulative_share": below / total,
        }
        for lo, up, c, below in parts
    ]


def cell_buckets(found: list[Cell], ms: InMs) -> Buckets:
    """``shown`` of one histogram's cells."""
    below = 0.0
    parts: list[Part] = []
    for cell in found:
        below += cell.count
        parts.append((ms[cell.lower], ms[cell.upper], cell.count, below))
    return shown(parts, below if found else None)


def table_buckets(table: Table, ms: InMs) -> Iterator[tuple[str, Buckets]]:
    """``shown`` of each row of a table, by name: the same as ``cell_buckets`` of its
    ``cells`` (the bounds' milliseconds read once for all rows)."""
    bounds = table.bounds
    lowers = [ms[b] for b in [0.0 if bounds[0] > 0 else None, *bounds[:-1]]]
    uppers = [ms[b] for b in bounds]
    own, running = cell_table(table.counts)
    for name, counts, sums in zip(table.names, own.tolist(), running.tolist(), strict=True):
        yield name, shown(list(zip(lowers, uppers, counts, sums, strict=True)), sums[-1])
