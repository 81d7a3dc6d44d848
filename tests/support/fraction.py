"""The share of observations under a threshold, computed independently of the service.

Written from the rule Prometheus documents for ``histogram_fraction`` on classic
histograms, over per-bucket (not cumulative) counts: every bucket wholly at or below
the threshold counts in full; the bucket that holds the threshold counts in proportion
to how far into it the threshold lies (its lower edge is the previous bound, 0 for the
lowest bucket); nothing inside the +Inf bucket counts. Apdex is then
(satisfied + tolerating / 2) / total, satisfied at or below T, tolerating above T and
at or below 4T.
"""

from __future__ import annotations

from collections.abc import Sequence


def count_under(threshold: float, bounds: Sequence[float], counts: Sequence[float]) -> float:
    """Observations at or below ``threshold``; ``counts`` has one more entry (+Inf)."""
    under = 0.0
    lower = 0.0
    for bound, count in zip(bounds, counts, strict=False):
        if bound <= threshold:
            under += count
        elif lower < threshold:
            under += count * (threshold - lower) / (bound - lower)
        lower = bound
    return under


def share_under(threshold: float, bounds: Sequence[float], counts: Sequence[float]) -> float | None:
    total = sum(counts)
    if total == 0:
        return None
    return count_under(threshold, bounds, counts) / total


def apdex(t: float, bounds: Sequence[float], counts: Sequence[float]) -> float | None:
    total = sum(counts)
    if total == 0:
        return None
    satisfied = count_under(t, bounds, counts)
    tolerating = count_under(4 * t, bounds, counts) - satisfied
    return (satisfied + tolerating / 2) / total
