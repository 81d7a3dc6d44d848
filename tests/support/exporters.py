"""Series as LLM servers export them (histograms, counters, summaries), as OpenMetrics.

A small generator for ``promtool tsdb create-blocks-from openmetrics``: each series
grows by fixed increments every scrape (an ``Idle`` phase stops it), in each
exporter's exact metric names, labels, bucket bounds and ``le`` spelling. Tests ask
Prometheus itself for the expected numbers, so nothing here computes quantiles.

    data = Scrapes(begin, end, 15)
    data.histogram("vllm:e2e_request_latency_seconds", {"model_name": "m"}, BOUNDS, [0, 2, 1])
    text = data.openmetrics()
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


def python_le(bound: float) -> str:
    """``le`` as prometheus_client writes it: ``1.0``, ``0.3``, ``+Inf``."""
    return "+Inf" if math.isinf(bound) else repr(float(bound))


def short_le(bound: float) -> str:
    """``le`` as Go and Rust exporters write it: ``1``, ``0.3``, ``+Inf``."""
    return "+Inf" if math.isinf(bound) else f"{bound:.17g}"


def _labels(labels: dict[str, str]) -> str:
    def esc(v: str) -> str:
        return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

    return "{" + ",".join(f'{k}="{esc(v)}"' for k, v in labels.items()) + "}"


@dataclass
class Family:
    name: str
    kind: str  # histogram, summary, unknown (counters under any name)
    lines: list[str] = field(default_factory=list)


@dataclass
class Scrapes:
    """Every scrape from ``begin`` to ``end`` (unix seconds), ``interval`` apart.

    ``idle_after``: seconds after ``begin`` from which a series stops growing (its
    samples go on, flat: a model with no traffic).
    """

    begin: int
    end: int
    interval: int
    families: dict[str, Family] = field(default_factory=dict)

    @property
    def stamps(self) -> range:
        return range(self.begin, self.end + 1, self.interval)

    def _family(self, name: str, kind: str) -> Family:
        family = self.families.setdefault(name, Family(name, kind))
        assert family.kind == kind, name
        return family

    def _grows(self, stamp: int, idle_after: float | None) -> bool:
        return idle_after is None or stamp - self.begin < idle_after

    def counter(
        self, name: str, labels: dict[str, str], per_scrape: float, idle_after: float | None = None
    ) -> None:
        family = self._family(name, "unknown")
        total = 0.0
        for stamp in self.stamps:
            total += per_scrape if self._grows(stamp, idle_after) else 0.0
            family.lines.append(f"{name}{_labels(labels)} {total} {stamp}")

    def histogram(
        self,
        name: str,
        labels: dict[str, str],
        bounds: Sequence[float],
        per_scrape: Sequence[float],
        *,
        le: Callable[[float], str] = python_le,
        idle_after: float | None = None,
    ) -> None:
        """``per_scrape``: observations per scrape in each bucket (not cumulative); one
        more than ``bounds`` means the last goes above the highest bound."""
        family = self._family(name, "histogram")
        counts = [*per_scrape, *[0.0] * (len(bounds) + 1 - len(per_scrape))]
        # Each observation at its bucket's upper bound (the +Inf ones at twice the top).
        values = [*bounds, 2 * bounds[-1]]
        totals = [0.0] * len(counts)
        total_sum = 0.0
        for stamp in self.stamps:
            if self._grows(stamp, idle_after):
                totals = [t + c for t, c in zip(totals, counts, strict=True)]
                total_sum += sum(c * v for c, v in zip(counts, values, strict=True))
            cumulative = 0.0
            for bound, count in zip([*bounds, math.inf], totals, strict=True):
                cumulative += count
                bucket = _labels({**labels, "le": le(bound)})
                family.lines.append(f"{name}_bucket{bucket} {cumulative} {stamp}")
            family.lines.append(f"{name}_count{_labels(labels)} {cumulative} {stamp}")
            family.lines.append(f"{name}_sum{_labels(labels)} {total_sum} {stamp}")

    def summary(
        self,
        name: str,
        labels: dict[str, str],
        quantiles: dict[str, float],
        per_scrape: float,
        mean: float,
        idle_after: float | None = None,
    ) -> None:
        """Quantile values as the exporter's own window has them (NaN once idle)."""
        family = self._family(name, "summary")
        count = total = 0.0
        for stamp in self.stamps:
            growing = self._grows(stamp, idle_after)
            if growing:
                count += per_scrape
                total += per_scrape * mean
            for q, value in quantiles.items():
                shown = repr(value) if growing else "NaN"
                family.lines.append(f"{name}{_labels({**labels, 'quantile': q})} {shown} {stamp}")
            family.lines.append(f"{name}_count{_labels(labels)} {count} {stamp}")
            family.lines.append(f"{name}_sum{_labels(labels)} {total} {stamp}")

    def openmetrics(self) -> str:
        lines: list[str] = []
        for family in self.families.values():
            lines.append(f"# TYPE {family.name} {family.kind}")
            lines.extend(family.lines)
        lines.append("# EOF")
        return "\n".join(lines) + "\n"
