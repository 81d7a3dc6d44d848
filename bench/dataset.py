"""The benchmark's data: written as OpenMetrics for promtool's backfill.

The histograms:
- ``bench_latency_seconds``: 48 models x 16 instances x 12 buckets every 15 s for the
  last hour before ``end``, a Prometheus that has real work to do per query
  (target 2 compares the service's miss latency with Prometheus's own);
- ``bench_range_seconds``: 12 models x 12 buckets every 60 s over 26 hours, for 24 h
  range refreshes (target 6) and many cheap distinct requests (target 7);
- ``bench_wide<N>_seconds``: N = 65, 2,000 and 10,000 models with one instance each and 12
  buckets every 15 s (one series per model and bucket, no aggregation across instances),
  for how a cache miss grows with the number of models (bench/wide.py).

Each model runs on instances of its own (``instance_of``: a server per model, as vLLM,
SGLang and TGI are deployed), whose addresses do not sort as the model names do. So
Prometheus answers an aggregation by model and ``le`` model by model, in its instances'
order, not block after block as it does when every model's series sort together (the
cheaper order for the service to read: docs/performance.md, "An answer in blocks kept
as it came").
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
DENSE = "bench_latency_seconds"
SPARSE = "bench_range_seconds"


@dataclass(frozen=True)
class Histogram:
    metric: str
    models: int
    instances: int
    interval: int
    hours: float


DENSE_SPEC = Histogram(DENSE, models=48, instances=16, interval=15, hours=1)
SPARSE_SPEC = Histogram(SPARSE, models=12, instances=1, interval=60, hours=26)
WIDE_SIZES = (65, 2000, 10_000)
# An hour and a bit where a 1 h range is measured; a quarter hour (a 5m window) at 10,000.
WIDE_SPECS = {
    n: Histogram(f"bench_wide{n}_seconds", models=n, instances=1, interval=15, hours=h)
    for n, h in ((65, 1.25), (2000, 1.25), (10_000, 0.25))
}


def model_names(count: int) -> list[str]:
    return [f"model-{n:02d}" for n in range(count)]


def instance_of(model: int, replica: int = 0) -> str:
    """The address of a model's server: ``10.0.0.0:8000`` sorts before ``10.0.1.0:8000``,
    ``10.0.10.0:8000`` and ``10.0.100.0:8000``, not as the model numbers do."""
    return f"10.0.{model}.{replica}:8000"


def wide_metric(models: int) -> str:
    return WIDE_SPECS[models].metric


def write(
    path: Path, end: int, seed: int = 11, specs: tuple[Histogram, ...] = (DENSE_SPEC, SPARSE_SPEC)
) -> Path:
    """Write ``specs`` (by default the dense and sparse histograms) ending at unix time
    ``end`` (whole minute) to ``path``; ``WIDE_SPECS`` go into a Prometheus of their own."""
    rng = random.Random(seed)
    with path.open("w") as out:
        for spec in specs:
            out.write(f"# TYPE {spec.metric} histogram\n")
            for line in _lines(spec, end, rng):
                out.write(line)
        out.write("# EOF\n")
    return path


def _lines(spec: Histogram, end: int, rng: random.Random) -> Iterator[str]:
    begin = end - int(spec.hours * 3600)
    for n, model in enumerate(model_names(spec.models)):
        centre = rng.uniform(1, 8)  # index into BOUNDS around which this model's latency sits
        for instance in range(spec.instances):
            weights = [max(0.0, 3 - abs(i - centre)) + rng.random() for i in range(len(BOUNDS))]
            labels = f'model="{model}",instance="{instance_of(n, instance)}",job="bench"'
            yield from _series(spec, labels, weights, begin, end)


def _series(
    spec: Histogram, labels: str, weights: list[float], begin: int, end: int
) -> Iterator[str]:
    totals = [0.0] * (len(BOUNDS) + 1)
    for stamp in range(begin, end + 1, spec.interval):
        for i, weight in enumerate([*weights, 0.5]):
            totals[i] += round(weight * 4)
        cumulative = 0.0
        for i, bound in enumerate([*BOUNDS, "+Inf"]):
            cumulative += totals[i]
            yield f'{spec.metric}_bucket{{{labels},le="{bound}"}} {cumulative} {stamp}\n'
        yield f"{spec.metric}_count{{{labels}}} {cumulative} {stamp}\n"
