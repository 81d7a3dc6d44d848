"""A classic histogram's buckets as a chart wants them: by numeric bound, not cumulative.

``le`` labels are text: ``"1"`` and ``"1.0"`` (Prometheus 3 writes the latter) or
``"0.5"`` and ``"5e-1"`` name one bound, and sort wrongly as strings. Here they are
parsed (``app/promql/quantile.py``'s ``parse_le``, Go's float grammar), merged by value,
sorted, forced monotonic like ``histogram_quantile`` does (bucket layouts that differ
between instances or over time leave the summed counts non-monotonic), and turned into
per-bucket counts.

    >>> per_bucket([(0.1, 2.0), (float("inf"), 5.0), (1e-1, 1.0)])
    [Cell(lower=0.0, upper=0.1, count=3.0), Cell(lower=0.1, upper=inf, count=2.0)]
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec
import numpy as np

from app.promql.builder import SeriesSelector, bucket_rates, bucket_selector
from app.promql.durations import format_duration
from app.promql.quantile import Bucket, coalesce, cumulative, ensure_monotonic, layout
from app.promql.tables import Array


# A struct made in C (not frozen, no cycles): an answer holds one per model and bucket
# (docs/performance.md).
class Cell(msgspec.Struct, gc=False):
    """One bucket: its bounds (``lower`` None for -Inf) and its own count (or rate)."""

    lower: float | None
    upper: float
    count: float


def per_bucket(buckets: Iterable[Bucket]) -> list[Cell]:
    """Cumulative ``(bound, count)`` pairs as per-bucket cells, sorted by bound."""
    ordered = sorted(buckets, key=lambda pair: pair[0])
    if not ordered:
        return []
    return cells(*coalesce(ordered))


def cells(bounds: list[float], counts: list[float]) -> list[Cell]:
    """Sorted, merged cumulative buckets as per-bucket cells (``counts`` made monotonic
    in place)."""
    if not bounds:
        return []
    ensure_monotonic(counts)
    found = []
    below = 0.0
    lower: float | None = 0.0 if bounds[0] > 0 else None
    for bound, total in zip(bounds, counts, strict=True):
        found.append(Cell(lower, bound, total - below))
        lower, below = bound, total
    return found


def cell_table(table: Array) -> tuple[Array, Array]:
    """``cells`` of every row of a table of cumulative counts (app/promql/quantile.py):
    each bucket's own count, and the running sums of those from 0.0 (what the answer's
    cumulative shares divide); the same float64s as one row at a time."""
    counts = np.maximum.accumulate(table, axis=1)  # ensure_monotonic: no NaN to keep
    below = np.zeros_like(counts)
    below[:, 1:] = counts[:, :-1]
    own = counts - below
    running = np.cumsum(np.hstack([np.zeros((len(own), 1)), own]), axis=1)[:, 1:]
    return own, running


SUSPECT = "suspect"
"""The tag of ``suspects_query``'s models whose bounds had different sample counts."""


def part_label(sel: SeriesSelector) -> str:
    """The label ``layout_query`` tags its two parts with (``suspects_query``, its
    suspects); never the model label itself."""
    return "bucket_part_" if sel.model_label == "bucket_part" else "bucket_part"


def sample_counts(sel: SeriesSelector, window_seconds: float) -> str:
    """The samples each (model, le) had in the window: a bound that some instances lack,
    or that came or went during the window, has fewer than the model's other bounds."""
    window = format_duration(window_seconds)
    return f"sum by ({sel.model_label}, le) (count_over_time({bucket_selector(sel)}[{window}]))"


def layout_query(sel: SeriesSelector, window_seconds: float) -> str:
    """Bucket rates per (model, le), tagged ``rate``, and their ``sample_counts``, tagged
    ``samples`` (a range: each step's layouts)."""
    tag = part_label(sel)
    return (
        f'label_replace({bucket_rates(sel, window_seconds)}, "{tag}", "rate", "", "")'
        f' or label_replace({sample_counts(sel, window_seconds)}, "{tag}", "samples", "", "")'
    )


def suspects_query(sel: SeriesSelector, window_seconds: float) -> str:
    """Bucket rates per (model, le), untagged, and, tagged ``suspect``, one sample for
    each model whose ``le`` texts had different numbers of samples in the window (an
    instant: usually none). Only a suspect's texts need counting (``sample_counts``):
    its bounds may still be even once spellings of one bound (``1``, ``1.0``) are added
    up, which PromQL cannot do. The engine sends one sample per bucket instead of two,
    and the service reads half as many (docs/performance.md)."""
    by, tag = sel.model_label, part_label(sel)
    spread = (
        f'count by ({by}) (count_values by ({by}) ("{tag}", {sample_counts(sel, window_seconds)}))'
    )
    # (``le`` names it too: a reducer keys each part's values by ``le``)
    suspects = f'label_replace({spread} > 1, "{tag}", "{SUSPECT}", "", "")'
    named = f'label_replace({suspects}, "le", "{SUSPECT}", "", "")'
    return f"{bucket_rates(sel, window_seconds)} or {named}"


def uneven(samples: Iterable[Bucket]) -> bool:
    """True when bounds (merged by value) had different numbers of samples."""
    ordered = sorted(samples, key=lambda pair: pair[0])
    if not ordered:
        return False
    _, counts = coalesce(ordered)
    return len(set(counts)) > 1


def uneven_group(counted: dict[str, float]) -> bool:
    """``uneven`` of one model's ``{le text: sample count}``."""
    _, counts = cumulative(counted)
    return len(set(counts)) > 1


def spelled_unevenly(group: dict[str, float]) -> bool:
    """Whether a model whose ``le`` texts (the keys of ``group``) all had one sample count
    is uneven all the same: a bound spelled more times than another adds up more."""
    return len({len(texts) for texts in layout(tuple(group)).texts}) > 1
