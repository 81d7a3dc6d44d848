"""Synthetic latency histograms with known bucket counts, and the quantiles they imply.

The expected quantiles are computed here, independently of the service, from
the bucket increments with the textbook rule Prometheus documents for
``histogram_quantile``: find the bucket holding rank ``q * total`` and
interpolate linearly inside it (the lowest bucket starts at 0).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Phase:
    """From ``start`` (seconds after the data begins) on, each scrape adds these counts."""

    start: float
    per_bucket: Sequence[float]  # increments per scrape, one per finite bucket, not cumulative


@dataclass(frozen=True)
class SeriesSpec:
    metric: str
    labels: dict[str, str]
    bounds: Sequence[float]
    phases: Sequence[Phase]
    overflow: float = 0.0  # increments per scrape above the largest finite bound


@dataclass
class Dataset:
    begin: int
    end: int
    interval: int
    series: list[SeriesSpec] = field(default_factory=list)

    def openmetrics(self) -> str:
        """OpenMetrics text for ``promtool tsdb create-blocks-from openmetrics``."""
        by_metric: dict[str, list[SeriesSpec]] = {}
        for spec in self.series:
            by_metric.setdefault(spec.metric, []).append(spec)
        lines: list[str] = []
        for metric, specs in by_metric.items():
            lines.append(f"# TYPE {metric} histogram")
            for spec in specs:
                lines.extend(self._lines(spec))
        lines.append("# EOF")
        return "\n".join(lines) + "\n"

    def _lines(self, spec: SeriesSpec) -> Iterable[str]:
        totals = [0.0] * (len(spec.bounds) + 1)
        for stamp in range(self.begin, self.end + 1, self.interval):
            phase = active_phase(spec.phases, stamp - self.begin)
            for i, inc in enumerate([*phase.per_bucket, spec.overflow]):
                totals[i] += inc
            cumulative = 0.0
            for i, bound in enumerate([*spec.bounds, math.inf]):
                cumulative += totals[i]
                le = "+Inf" if math.isinf(bound) else repr(float(bound))
                bucket_labels = _labels({**spec.labels, "le": le})
                yield f"{spec.metric}_bucket{bucket_labels} {cumulative} {stamp}"
            yield f"{spec.metric}_count{_labels(spec.labels)} {cumulative} {stamp}"


def active_phase(phases: Sequence[Phase], offset: float) -> Phase:
    return [p for p in phases if p.start <= offset][-1]


def _labels(labels: dict[str, str]) -> str:
    def esc(v: str) -> str:
        return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

    return "{" + ",".join(f'{k}="{esc(v)}"' for k, v in labels.items()) + "}"


def expected_quantile(q: float, bounds: Sequence[float], counts: Sequence[float]) -> float | None:
    """Quantile ``q`` of per-bucket (non-cumulative) counts; the last count is the +Inf bucket."""
    total = sum(counts)
    if total == 0:
        return None
    rank = q * total
    below = 0.0
    for i, count in enumerate(counts):
        if below + count >= rank and count > 0:
            if i == len(bounds):  # rank falls in +Inf: Prometheus answers the largest bound
                return bounds[-1]
            lower = 0.0 if i == 0 else bounds[i - 1]
            return lower + (bounds[i] - lower) * (rank - below) / count
        below += count
    return bounds[-1]


def summed(specs: Iterable[SeriesSpec], offset: float) -> list[float]:
    """Per-bucket increments of several series (replicas of one model) added up."""
    specs = list(specs)
    width = len(specs[0].bounds) + 1
    total = [0.0] * width
    for spec in specs:
        incs = [*active_phase(spec.phases, offset).per_bucket, spec.overflow]
        total = [a + b for a, b in zip(total, incs, strict=True)]
    return total
