"""Random histograms as an instant answer groups them (``{le text: count}`` per model):
counts raw and cumulative, repeated, empty (-0.0), fractions and tiny ones, for tests
that compare a table path with one model at a time."""

from __future__ import annotations

import itertools
import random


def random_groups(rng: random.Random, texts: list[str], count: int) -> dict[str, dict[str, float]]:
    groups = {}
    for n in range(count):
        counts = [rng.choice([0.0, -0.0, 1.0, 2.5, 1 / 3, 7.0, 1e-9, 0.1]) for _ in texts]
        if n % 3:
            counts = list(itertools.accumulate(counts))
        if n % 7 == 0:
            counts = [-0.0] * len(texts)
        groups[f"m{n:03d}"] = dict(zip(texts, counts, strict=True))
    return groups
