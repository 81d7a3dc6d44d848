"""The results table: one row per target, its measured ratio, threshold and verdict."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    target: str
    what: str
    measured: str
    ratio: float
    threshold: str
    passed: bool

    @property
    def verdict(self) -> str:
        return "pass" if self.passed else "FAIL"


def at_least(target: str, what: str, measured: str, ratio: float, minimum: float) -> Row:
    return Row(target, what, measured, ratio, f">= {minimum:g}", ratio >= minimum)


def at_most(target: str, what: str, measured: str, ratio: float, maximum: float) -> Row:
    return Row(target, what, measured, ratio, f"<= {maximum:g}", ratio <= maximum)


def markdown(rows: list[Row], header: str) -> str:
    lines = [
        header,
        "",
        "| # | target | measured | ratio | threshold | result |",
        "|---|---|---|---:|---:|---|",
    ]
    lines += [
        f"| {r.target} | {r.what} | {r.measured} | {r.ratio:.3g} | {r.threshold} | {r.verdict} |"
        for r in rows
    ]
    return "\n".join(lines) + "\n"
