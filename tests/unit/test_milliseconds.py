"""``milliseconds`` (many values at once, numpy) against ``to_milliseconds`` (one at a
time, Python's ``round(x, 6)``): the same float, bit for bit, or None, for each value.

The values are chosen where a shortcut would go wrong: halves at the sixth decimal and
the doubles a few steps either side of them, magnitudes from subnormal to past 2**52
millionths, negative zero, NaN and infinities, for each unit factor the service uses.
"""

from __future__ import annotations

import math
import random
import struct

import pytest

from app.services.milliseconds import milliseconds, to_milliseconds

FACTORS = [1000.0, 1.0, 0.001]


def same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return struct.pack("<d", a) == struct.pack("<d", b)


def near_halves(rng: random.Random, factor: float, count: int) -> list[float]:
    """Values whose scaled millionths sit on or a few doubles around ``k + 0.5``."""
    found = []
    for _ in range(count):
        whole = rng.choice([0, 1, 7, 12345, rng.randrange(10**9), rng.randrange(10**15)])
        sign = rng.choice([1.0, -1.0])
        x = sign * (whole + 0.5) / 1e6 / factor
        for _ in range(rng.randint(0, 3)):
            x = math.nextafter(x, rng.choice([math.inf, -math.inf]))
        found.append(x)
    return found


def random_values(rng: random.Random, count: int) -> list[float]:
    found = []
    for _ in range(count):
        exponent = rng.uniform(-320, 30)
        found.append(rng.choice([1.0, -1.0]) * rng.random() * 10.0**exponent)
    return found


SPECIAL = [0.0, -0.0, math.nan, math.inf, -math.inf, 5e-324, -5e-324, 1e308, -1e308, 2.0**52]


@pytest.mark.parametrize("factor", FACTORS)
@pytest.mark.parametrize("seed", range(5))
def test_the_same_floats_as_one_at_a_time(factor: float, seed: int) -> None:
    rng = random.Random(seed)
    values = [
        *SPECIAL,
        *near_halves(rng, factor, 2000),
        *random_values(rng, 2000),
        *(rng.uniform(0, 30) for _ in range(2000)),  # latencies in seconds
        *(2.0**52 / 1e6 / factor * rng.uniform(0.5, 2) for _ in range(200)),
    ]
    rng.shuffle(values)
    found = milliseconds(values, factor)
    wrong = [
        (v, f, to_milliseconds(v, factor))
        for v, f in zip(values, found, strict=True)
        if not same(f, to_milliseconds(v, factor))
    ]
    assert not wrong, wrong[:5]


def test_the_shortcut_covers_ordinary_latencies() -> None:
    """Not a fallback in disguise: ordinary values are converted by the array path
    (a tie is the only value here that needs ``round``)."""
    values = [0.1 * k + 0.0123456789 for k in range(1000)]
    assert milliseconds(values, 1000.0) == [round(v * 1000.0, 6) for v in values]
    assert milliseconds([], 1000.0) == []
