"""What the status page should show for the standard dataset, computed from its bucket counts.

Independent of the service: per-bucket increments straight from tests/support/dataset.py,
quantiles by tests/support/histograms.expected_quantile.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.support.dataset import BEGIN, DATASET, END, INTERVAL, SECONDS_BOUNDS
from tests.support.histograms import SeriesSpec, active_phase, expected_quantile, summed

METRIC = "request_duration_seconds"
WINDOW = 300  # the page's default time_range, 5m


@dataclass(frozen=True)
class Row:
    p50: float | None
    p95: float | None
    p99: float | None
    state: str


def series_by_model() -> dict[str, list[SeriesSpec]]:
    grouped: dict[str, list[SeriesSpec]] = {}
    for spec in DATASET.series:
        if spec.metric == METRIC:
            grouped.setdefault(spec.labels["model"], []).append(spec)
    return grouped


def state(p95_ms: float | None, warning_ms: float, danger_ms: float) -> str:
    if p95_ms is None:
        return "nodata"
    if p95_ms < warning_ms:
        return "good"
    return "warning" if p95_ms < danger_ms else "danger"


def ms(value: float | None) -> float | None:
    return None if value is None else value * 1000


def rows_at_end(warning_ms: float, danger_ms: float) -> dict[str, Row]:
    """Every model's p50/p95/p99 (ms) at ``END``: the last phase fills the whole window."""
    rows = {}
    for model, specs in series_by_model().items():
        counts = summed(specs, END - BEGIN)
        p50, p95, p99 = (
            ms(expected_quantile(q, SECONDS_BOUNDS, counts)) for q in (0.5, 0.95, 0.99)
        )
        rows[model] = Row(p50, p95, p99, state(p95, warning_ms, danger_ms))
    return rows


def increase(specs: list[SeriesSpec], first: int, last: int) -> float:
    """Observations added between the samples at ``first`` and ``last`` (both on the grid)."""
    total = 0.0
    for stamp in range(first + INTERVAL, last + 1, INTERVAL):
        for spec in specs:
            phase = active_phase(spec.phases, stamp - BEGIN)
            total += sum(phase.per_bucket) + spec.overflow
    return total


def points_with_data(start: int, end: int, step: int) -> dict[str, int]:
    """Per model, how many range points have a p95: those whose window saw observations."""
    counts = {}
    for model, specs in series_by_model().items():
        points = 0
        for t in range(start, end + 1, step):
            first = max(BEGIN, t - WINDOW)  # the window [t - 5m, t] holds samples at both ends
            points += increase(specs, first, t) > 0
        counts[model] = points
    return counts
