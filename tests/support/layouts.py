"""Histograms whose ``le`` labels are spelled differently or whose layouts differ.

``spelled``: instance ``a`` writes ``le="1"``, instance ``b`` ``le="1.0"`` (as
Prometheus 3 normalises it) and ``le="0.50"``, instance ``c`` ``le="1e0"`` and
``le="5e-1"``: the same bounds by value. ``mixed``: instance ``b`` has a
bound (0.25) that instance ``a`` lacks. Each scrape adds the same per-bucket counts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

METRIC = "layout_seconds"
INTERVAL = 15
END = int(time.time() // 60 * 60) - 120
BEGIN = END - 3600

# (model, instance, le texts of the finite bounds, increments per scrape incl. +Inf)
SERIES: list[tuple[str, str, Sequence[str], Sequence[float]]] = [
    ("spelled", "a", ("0.1", "0.5", "1"), (1, 2, 3, 1)),
    ("spelled", "b", ("0.1", "0.50", "1.0"), (2, 0, 4, 2)),
    ("spelled", "c", ("1e-1", "5e-1", "1e0"), (1, 1, 1, 1)),
    ("mixed", "a", ("0.1", "0.5"), (3, 1, 1)),
    ("mixed", "b", ("0.1", "0.25", "0.5"), (1, 2, 2, 1)),
]


def _lines(model: str, instance: str, les: Sequence[str], incs: Sequence[float]) -> Iterator[str]:
    labels = f'model="{model}",instance="{instance}"'
    for scrapes, stamp in enumerate(range(BEGIN, END + 1, INTERVAL), start=1):
        cumulative = 0.0
        for le, inc in zip([*les, "+Inf"], incs, strict=True):
            cumulative += inc * scrapes
            yield f'{METRIC}_bucket{{{labels},le="{le}"}} {cumulative} {stamp}'
        yield f"{METRIC}_count{{{labels}}} {cumulative} {stamp}"


def openmetrics() -> str:
    lines = [f"# TYPE {METRIC} histogram"]
    for model, instance, les, incs in SERIES:
        lines.extend(_lines(model, instance, les, incs))
    return "\n".join([*lines, "# EOF"]) + "\n"


ONE = "1|1.0|1e0"
HALF = "0.5|0.50|5e-1"
