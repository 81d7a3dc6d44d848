"""Histograms Prometheus has to cope with, written as raw OpenMetrics bucket counters.

Typed ``unknown`` so the backfill takes them as they are: buckets that are not
monotonic, a histogram without +Inf, one with only +Inf, one with no traffic,
equal bounds spelled differently, negative bounds, fractional counts that make
float sums inexact, and dozens of random models (some of them non-monotonic).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

METRIC = "odd_latency_seconds"
INTERVAL = 15
END = int(time.time() // 60 * 60) - 300
BEGIN = END - 3600

# model -> [(le label text, increment per scrape)]
FIXED: dict[str, list[tuple[str, float]]] = {
    "nonmonotonic": [("0.1", 5), ("0.5", 3), ("1", 8), ("2", 7), ("+Inf", 9)],
    "no-inf": [("0.1", 1), ("0.5", 2), ("1", 3)],
    "only-inf": [("+Inf", 4)],
    "no-traffic": [("0.1", 0), ("0.5", 0), ("+Inf", 0)],
    "mixed-le": [("0.1", 1), ("0.2", 1), ("2e-1", 1), ("2.0e-1", 1), ("+Inf", 4)],
    "mixed-inf": [("+inf", 0), ("+Inf", 0)],
    "negative": [("-1", 1), ("-0.5", 2), ("0", 2), ("0.5", 4), ("+Inf", 5)],
    "fractions": [("0.1", 0.1), ("0.2", 0.3), ("0.3", 0.6), ("0.4", 0.7), ("+Inf", 0.7)],
    "unsorted-le": [("1", 6), ("0.25", 2), ("+Inf", 7), ("0.5", 5)],
    "overflow": [("0.1", 0), ("0.5", 0), ("+Inf", 3)],
}


def random_models(count: int = 40, seed: int = 7) -> dict[str, list[tuple[str, float]]]:
    rng = random.Random(seed)
    bounds = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10"]
    models = {}
    for n in range(count):
        cumulative, buckets = 0.0, []
        for le in rng.sample(bounds, rng.randint(2, len(bounds))):
            cumulative += rng.choice([0, 0, 1, 2, 3.5, 7, 0.25])
            buckets.append((le, cumulative))
        buckets.sort(key=lambda pair: float(pair[0]))
        if n % 5 == 0:  # a race between bucket scrapes: one bucket lags behind
            le, count_ = buckets[len(buckets) // 2]
            buckets[len(buckets) // 2] = (le, max(0.0, count_ - 2))
        buckets.append(("+Inf", cumulative + rng.choice([0, 1, 4])))
        models[f"random-{n:02d}"] = buckets
    return models


MODELS = {**FIXED, **random_models()}


def openmetrics() -> str:
    lines = [f"# TYPE {METRIC}_bucket unknown"]
    lines.extend(_samples())
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def _samples() -> Iterator[str]:
    for model, buckets in MODELS.items():
        for le, increment in buckets:
            for tick, stamp in enumerate(range(BEGIN, END + 1, INTERVAL)):
                labels = f'model="{model}",le="{le}"'
                yield f"{METRIC}_bucket{{{labels}}} {increment * tick!r} {stamp}"
