"""Range arithmetic shared by the range query models (``Spanned``): a missing end or
start filled in, the span checked, and a chart's default step.

>>> resolve_range(None, None, 3600.0, 60.0, now=7230.0)
(3600.0, 7200.0)
>>> history_step(6 * 3600)
300.0
"""

from __future__ import annotations

import time as clock
from typing import Self

from pydantic import BaseModel, PrivateAttr, model_validator

from app import params
from app.params import ParameterProblem

Span = tuple[float, float, float]
"""Start, end and step of a range, in seconds."""


class Spanned(BaseModel):
    """A query over a range: its span is resolved and checked once, as it is validated,
    and read from ``span`` after (a missing end is the validation time, aligned down to
    the step)."""

    _span: Span = PrivateAttr()

    @model_validator(mode="after")
    def _fits(self) -> Self:
        self._span = self._resolve(clock.time())
        return self

    @property
    def span(self) -> Span:
        """Start, end and step in seconds."""
        return self._span

    def _resolve(self, now: float) -> Span:
        raise NotImplementedError


HISTORY_STEPS = (15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
HISTORY_TARGET_POINTS = 120


def history_step(seconds: float) -> float:
    """A round step that gives a chart about 120 points over ``seconds``."""
    wanted = seconds / HISTORY_TARGET_POINTS
    return float(next((s for s in HISTORY_STEPS if s >= wanted), HISTORY_STEPS[-1]))


def resolve_range(
    start: float | None, end: float | None, length: float, step: float, now: float
) -> tuple[float, float]:
    """Fill in a missing end (now, aligned down to the step) and start (end - duration)."""
    if end is None:
        end = start + length if start is not None else (now // step) * step
    if start is None:
        start = end - length
    return start, end


def check_span(start: float, end: float, step: float, *, start_given: bool) -> None:
    if start < 0:
        raise ParameterProblem(
            "end minus duration is before 1970; give a later end or a shorter duration",
            parameter="start" if start_given else "end",
        )
    if start >= end:
        raise ParameterProblem("start must be before end", parameter="start")
    params.check_points(start, end, step)
