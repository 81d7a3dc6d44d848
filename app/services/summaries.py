"""Quantiles read from a summary's ``quantile`` series, per model.

A summary's quantiles cannot be aggregated across instances: with more than one
series for a model and quantile the answer takes the worst (the highest) and says
so. A percentile the summary does not carry is null, and the answer names the
quantiles it has.
"""

from __future__ import annotations

import math

from app.params import Percentile
from app.promql.quantile import parse_le
from app.promql.upstream import Sample
from app.services.milliseconds import to_milliseconds

Values = dict[str, float | None]


def summary_values(
    samples: list[Sample],
    *,
    metric: str,
    model_label: str,
    wanted: tuple[Percentile, ...],
    factor: float,
) -> tuple[dict[str, Values | float | None], list[str]]:
    """``{model: {"50": ms, ...}}`` and the warnings (several series, absent quantiles)."""
    worst: dict[str, dict[float, float]] = {}
    seen: dict[tuple[str, float], int] = {}
    for sample in samples:
        model = sample.labels.get(model_label)
        q = parse_le(sample.labels.get("quantile", ""))
        if model is None or q is None or math.isnan(q):
            continue
        seen[(model, q)] = seen.get((model, q), 0) + 1
        value = math.nan if sample.value is None else sample.value
        kept = worst.setdefault(model, {})
        if math.isnan(value):
            kept.setdefault(q, value)
        else:
            before = kept.get(q, math.nan)
            kept[q] = value if math.isnan(before) else max(before, value)
    values = {model: _pick(kept, wanted, factor) for model, kept in sorted(worst.items())}
    return dict(values), _warnings(metric, worst, seen, wanted)


def _pick(kept: dict[float, float], wanted: tuple[Percentile, ...], factor: float) -> Values:
    found: Values = {}
    for p in wanted:
        q = _matching(kept, p.value / 100)
        found[p.label] = None if q is None else to_milliseconds(kept[q], factor)
    return found


def _matching(kept: dict[float, float], q: float) -> float | None:
    return next((have for have in kept if math.isclose(have, q, rel_tol=1e-9)), None)


def _warnings(
    metric: str,
    worst: dict[str, dict[float, float]],
    seen: dict[tuple[str, float], int],
    wanted: tuple[Percentile, ...],
) -> list[str]:
    notes = []
    crowded = sorted({model for (model, _), count in seen.items() if count > 1})
    if crowded:
        notes.append(
            f"{metric}: {len(crowded)} model(s) have more than one summary series "
            f"({', '.join(crowded[:5])}); summaries cannot be aggregated, so the answer "
            "takes the highest value of each quantile"
        )
    have = sorted({q for kept in worst.values() for q in kept})
    carried = dict.fromkeys(have, 0.0)
    absent = [p.label for p in wanted if have and _matching(carried, p.value / 100) is None]
    if absent:
        quantiles = ", ".join(f"{q:g}" for q in have)
        notes.append(
            f"{metric} has no quantile for percentile(s) {', '.join(absent)}; it has {quantiles}"
        )
    return notes
