"""Exact observations behind the native-histogram tests, and the series that carry them.

Every value below is generated from a fixed seed, so a test can recompute any
quantile from the observations themselves. All timestamps lie in the last half hour
(a fresh TSDB refuses older ones); ``EVAL`` sits between two scrapes, so the 5m
window holds the scrapes at END-300 .. END-15 and the observations after END-300.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from tests.support.remote_write import (
    FloatSeries,
    HistogramSeries,
    classic_series,
    native_snapshots,
)

INTERVAL = 15
END = int(time.time()) // INTERVAL * INTERVAL - INTERVAL
BEGIN = END - 1800
EVAL = END - 7
WINDOW = 300
SCRAPES = list(range(BEGIN, END + 1, INTERVAL))

NATIVE = "native_latency_seconds"
CLASSIC = "classic_latency_seconds"
MIXED = "mixed_latency_seconds"
WEIRD = 'weird"model\\x'
CLASSIC_BOUNDS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


@dataclass(frozen=True)
class NativeSpec:
    """One native series: where its observations come from and how it is bucketed."""

    labels: dict[str, str]
    observations: list[tuple[float, float]]
    schema: int
    zero_threshold: float = 0.0
    until: int = END  # last scrape sent

    def series(self) -> HistogramSeries:
        stamps = [t for t in SCRAPES if t <= self.until]
        snaps = native_snapshots(
            self.observations, stamps, schema=self.schema, zero_threshold=self.zero_threshold
        )
        return HistogramSeries(self.labels, snaps)

    def window_values(self) -> list[float]:
        first = min(t for t in SCRAPES if t >= EVAL - WINDOW)
        last = max(t for t in SCRAPES if t <= EVAL)
        return [v for t, v in self.observations if first < t <= last]


def _observe(
    seed: int, draw: Callable[[random.Random], float], per_minute: int, stop: int = END
) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    count = (stop - BEGIN) // 60 * per_minute
    return [(rng.uniform(BEGIN, stop), draw(rng)) for _ in range(count)]


def _latency(rng: random.Random) -> float:
    roll = rng.random()
    return 0.0 if roll < 0.04 else rng.lognormvariate(-1.2, 0.6)


def _skewed_clock(rng: random.Random) -> float:
    # Some latencies measured across hosts come out negative or as exact zeros.
    roll = rng.random()
    if roll < 0.2:
        return 0.0
    if roll < 0.35:
        return -rng.uniform(0.001, 0.8)
    return rng.lognormvariate(0.0, 0.8)


def _negative_only(rng: random.Random) -> float:
    return 0.0 if rng.random() < 0.3 else -rng.lognormvariate(-2, 1)


def _labels(metric: str, model: str, instance: str = "a") -> dict[str, str]:
    return {"__name__": metric, "job": "llm-gateway", "model": model, "instance": instance}


ZERO = 2.0**-10

NATIVE_SPECS = [
    NativeSpec(_labels(NATIVE, "gpt-4", "a"), _observe(1, _latency, 40), 3, ZERO),
    NativeSpec(_labels(NATIVE, "gpt-4", "b"), _observe(2, _latency, 25), 3, ZERO),
    NativeSpec(_labels(NATIVE, "llama-3"), _observe(3, _skewed_clock, 30), 0, 0.001),
    NativeSpec(_labels(NATIVE, "negative"), _observe(4, _negative_only, 20), 2, 0.01),
    NativeSpec(_labels(NATIVE, WEIRD), _observe(5, _latency, 10), 3),
    # Traffic stops ten minutes before the end, the series goes on: rate 0, quantile NaN.
    NativeSpec(_labels(NATIVE, "quiet"), _observe(6, _latency, 10, stop=END - 600), 3),
    # The series itself stops ten minutes before the end: no answer at all.
    NativeSpec(_labels(NATIVE, "gone"), _observe(7, _latency, 10), 3, until=END - 600),
    # Detection: "both" has native and classic data, "native-only" only native.
    NativeSpec(_labels(MIXED, "both"), _observe(8, _latency, 10), 3),
    NativeSpec(_labels(MIXED, "native-only"), _observe(9, _latency, 10), 3),
]


def classic() -> list[FloatSeries]:
    def one(metric: str, model: str, seed: int) -> list[FloatSeries]:
        labels = {k: v for k, v in _labels(metric, model).items() if k != "__name__"}
        obs = _observe(seed, _latency, 10)
        return classic_series(metric, labels, CLASSIC_BOUNDS, obs, SCRAPES)

    return [*one(CLASSIC, "gpt-4", 10), *one(MIXED, "both", 11), *one(MIXED, "classic-only", 12)]


def all_series() -> list[HistogramSeries | FloatSeries]:
    return [*(spec.series() for spec in NATIVE_SPECS), *classic()]


def specs(metric: str, model: str) -> list[NativeSpec]:
    return [
        s for s in NATIVE_SPECS if s.labels["__name__"] == metric and s.labels["model"] == model
    ]
