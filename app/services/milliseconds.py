"""Latencies in milliseconds, as every answer shows them: scaled from the metric's unit,
rounded to 6 decimals, and None (JSON null) where there is no number.

``to_milliseconds`` is the rule, one value at a time. ``milliseconds`` gives the same
floats for many values at once (a range answer's points) with numpy: it rounds each
scaled value at the sixth decimal with ``rint`` where that provably gives what
``round(x, 6)`` gives, and asks ``to_milliseconds`` for every other value.

    >>> to_milliseconds(0.2456789012, 1000.0), to_milliseconds(float("nan"), 1000.0)
    (245.678901, None)
    >>> milliseconds([0.2456789012, float("inf"), 0.5], 1000.0)
    [245.678901, None, 500.0]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from app.promql.upstream import Series

MICRO = 1e6  # (rounding to 6 decimals: whole millionths)
EXACT = 2.0**52  # below this a double holds every half of a millionth exactly


def to_milliseconds(value: float | None, factor: float) -> float | None:
    """Scaled to milliseconds; NaN and infinities (no answer) become None (JSON null)."""
    if value is None:
        return None
    scaled = round(value * factor, 6)
    return scaled if scaled - scaled == 0 else None  # (finite: inf - inf and NaN are NaN)


def milliseconds(values: Sequence[float], factor: float) -> list[float | None]:
    """``to_milliseconds(value, factor)`` of each value, the same floats.

    ``round(x, 6)`` is the double nearest to ``x`` rounded at its sixth decimal place.
    With ``n = rint(x * 1e6)``, ``n / 1e6`` is that double (IEEE division is correctly
    rounded, and ``n`` and ``1e6`` are exact) whenever ``n`` is the right whole number.
    It is unless the product lands on a half: below ``EXACT`` every ``k + 0.5`` is a
    double and rounding to nearest is monotonic, so the computed product is on the same
    side of each half as the exact one, or on it (and the distance to a half is computed
    exactly). Products on a half, at or above ``EXACT``, NaN and infinities go through
    ``to_milliseconds``.
    """
    with np.errstate(over="ignore", invalid="ignore"):  # (NaN and infinities: not safe)
        micro = np.asarray(values, dtype=float) * factor * MICRO
        half = np.abs(np.abs(micro - np.trunc(micro)) - 0.5)
        safe = (half != 0) & (np.abs(micro) < EXACT)
        found: list[float | None] = (np.rint(micro) / MICRO).tolist()
    if not safe.all():
        for i in np.flatnonzero(~safe).tolist():
            found[i] = to_milliseconds(values[i], factor)
    return found


def series_milliseconds(series: Sequence[Series], factor: float) -> list[list[float | None]]:
    """Each series' point values in milliseconds, in order: ``milliseconds`` of all the
    points of all the series at once (one array for a whole range answer)."""
    values = milliseconds([v for s in series for _, v in s.points], factor)
    found = []
    at = 0
    for s in series:
        found.append(values[at : at + len(s.points)])
        at += len(s.points)
    return found
